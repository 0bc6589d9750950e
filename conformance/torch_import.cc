#include "rnnflow/conformance/torch_import.h"

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

// PyTorch gate block holding canonical gate g.
int TorchBlock(RnnCell cell, int g) {
  if (cell == RnnCell::kLbrGru || cell == RnnCell::kGru) {
    static const int kGru[3] = {1, 0, 2};  // u <- z, r <- r, o <- n
    return kGru[g];
  }
  return g;  // LSTM i,f,g,o and RNN: same order
}

absl::Status CheckCell(RnnCell cell, int64_t input, int64_t hidden) {
  if (cell == RnnCell::kGru) {
    return absl::InvalidArgumentError(
        "PyTorch's GRU is the linear-before-reset GRU; the classic GRU "
        "(linear_before_reset=false) has no PyTorch parameters to import");
  }
  if (input <= 0 || hidden <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad layer sizes I=", input, " H=", hidden));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RnnCell> TorchModuleCell(absl::string_view module, absl::string_view nonlinearity) {
  if (module == "LSTM") return RnnCell::kLstm;
  if (module == "GRU") return RnnCell::kLbrGru;
  if (module == "RNN") {
    if (nonlinearity.empty() || nonlinearity == "tanh") return RnnCell::kRnnTanh;
    if (nonlinearity == "relu") return RnnCell::kRnnRelu;
    return absl::InvalidArgumentError(absl::StrCat("unknown RNN nonlinearity \"", nonlinearity,
                                                   "\" (expected \"tanh\" or \"relu\")"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown PyTorch module \"", module, "\" (expected LSTM, GRU or RNN)"));
}

std::string TorchParamName(absl::string_view kind, int64_t layer, int direction) {
  return absl::StrCat(kind, "_l", layer, direction == 1 ? "_reverse" : "");
}

absl::Status TorchToCanonical(RnnCell cell, int64_t input, int64_t hidden,
                              const TorchLayerParams& torch, float* w_x, float* w_h, float* b) {
  RF_RETURN_IF_ERROR(CheckCell(cell, input, hidden));
  if (torch.weight_ih == nullptr || torch.weight_hh == nullptr) {
    return absl::InvalidArgumentError("missing PyTorch weight_ih / weight_hh");
  }
  const int gates = RnnGateCount(cell);
  const int64_t cols = gates * hidden;
  for (int g = 0; g < gates; ++g) {
    const int64_t src_block = TorchBlock(cell, g) * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float* row_ih = torch.weight_ih + (src_block + j) * input;
      const float* row_hh = torch.weight_hh + (src_block + j) * hidden;
      for (int64_t i = 0; i < input; ++i) w_x[i * cols + g * hidden + j] = row_ih[i];
      for (int64_t i = 0; i < hidden; ++i) w_h[i * cols + g * hidden + j] = row_hh[i];
    }
  }
  auto bias = [](const float* v, int64_t i) { return v == nullptr ? 0.f : v[i]; };
  for (int g = 0; g < gates; ++g) {
    const int64_t src_block = TorchBlock(cell, g) * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float bi = bias(torch.bias_ih, src_block + j);
      const float bh = bias(torch.bias_hh, src_block + j);
      if (cell == RnnCell::kLbrGru && g == 2) {
        b[2 * hidden + j] = bi;  // b_in
        b[3 * hidden + j] = bh;  // b_hn, inside r * (...)
      } else {
        b[g * hidden + j] = bi + bh;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CanonicalGradToTorch(RnnCell cell, int64_t input, int64_t hidden,
                                  const float* grad_w_x, const float* grad_w_h, const float* grad_b,
                                  const TorchLayerGrads& torch) {
  RF_RETURN_IF_ERROR(CheckCell(cell, input, hidden));
  if (grad_w_x == nullptr || grad_w_h == nullptr || grad_b == nullptr) {
    return absl::InvalidArgumentError("missing canonical gradients");
  }
  const int gates = RnnGateCount(cell);
  const int64_t cols = gates * hidden;
  for (int g = 0; g < gates; ++g) {
    const int64_t dst_block = TorchBlock(cell, g) * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      if (torch.weight_ih != nullptr) {
        float* row = torch.weight_ih + (dst_block + j) * input;
        for (int64_t i = 0; i < input; ++i) row[i] = grad_w_x[i * cols + g * hidden + j];
      }
      if (torch.weight_hh != nullptr) {
        float* row = torch.weight_hh + (dst_block + j) * hidden;
        for (int64_t i = 0; i < hidden; ++i) row[i] = grad_w_h[i * cols + g * hidden + j];
      }
      const bool lbr_candidate = cell == RnnCell::kLbrGru && g == 2;
      const float gi = grad_b[g * hidden + j];
      const float gh = lbr_candidate ? grad_b[3 * hidden + j] : gi;
      if (torch.bias_ih != nullptr) torch.bias_ih[dst_block + j] = gi;
      if (torch.bias_hh != nullptr) torch.bias_hh[dst_block + j] = gh;
    }
  }
  return absl::OkStatus();
}

}  // namespace rnnflow
