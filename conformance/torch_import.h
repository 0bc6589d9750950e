// Conversion between PyTorch's nn.RNN / nn.LSTM / nn.GRU parameters and
// rnnflow's canonical recurrent parameters (graph/op_defs_rnn.cc), one layer
// and direction at a time, plus the inverse mapping for gradients.
//
// PyTorch, per layer k and direction ("_reverse" suffix for the reverse one):
//   weight_ih_l{k} (G*H, I_k), weight_hh_l{k} (G*H, H), bias_ih_l{k} (G*H),
//   bias_hh_l{k} (G*H); gate blocks LSTM i,f,g,o; GRU r,z,n; RNN one block.
// Canonical (dense oneDNN ldigo): w_x [I_k, G*H], w_h [H, G*H], b [Gb, H];
//   gates LSTM i,f,c~,o; GRU u(=z),r,o(=n); lbr GRU bias rows
//   [b_iz+b_hz, b_ir+b_hr, b_in, b_hn]; otherwise b = bias_ih + bias_hh.
//
// A PyTorch bias pair (b_ih, b_hh) enters the function only through its sum
// (except the LBR candidate rows), so both halves get the same gradient: the
// canonical row's gradient. LBR-GRU: rows u, r go to both halves, row o to
// b_in, row o' to b_hn.
//
// PyTorch's GRU is the linear-before-reset GRU (RnnCell::kLbrGru); the
// classic GRU (RnnCell::kGru) has no PyTorch counterpart and is refused.
#ifndef RNNFLOW_CONFORMANCE_TORCH_IMPORT_H_
#define RNNFLOW_CONFORMANCE_TORCH_IMPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rnnflow/ops/internal/rnn_layer.h"

namespace rnnflow {

// The cell of a PyTorch module: "LSTM", "GRU", or "RNN" with nonlinearity
// "tanh" / "relu".
absl::StatusOr<RnnCell> TorchModuleCell(absl::string_view module, absl::string_view nonlinearity);

// "weight_ih_l1_reverse" for kind "weight_ih", layer 1, direction 1.
std::string TorchParamName(absl::string_view kind, int64_t layer, int direction);

// One layer/direction of PyTorch parameters. The biases may be null
// (bias=False): they count as zeros.
struct TorchLayerParams {
  const float* weight_ih = nullptr;  // (G*H, I)
  const float* weight_hh = nullptr;  // (G*H, H)
  const float* bias_ih = nullptr;    // (G*H)
  const float* bias_hh = nullptr;    // (G*H)
};

// Writes canonical w_x [I, G*H], w_h [H, G*H], b [Gb, H].
absl::Status TorchToCanonical(RnnCell cell, int64_t input, int64_t hidden,
                              const TorchLayerParams& torch, float* w_x, float* w_h, float* b);

// Gradients in PyTorch's layout from canonical gradients. Outputs may be null
// (not wanted).
struct TorchLayerGrads {
  float* weight_ih = nullptr;
  float* weight_hh = nullptr;
  float* bias_ih = nullptr;
  float* bias_hh = nullptr;
};
absl::Status CanonicalGradToTorch(RnnCell cell, int64_t input, int64_t hidden,
                                  const float* grad_w_x, const float* grad_w_h, const float* grad_b,
                                  const TorchLayerGrads& torch);

}  // namespace rnnflow

#endif  // RNNFLOW_CONFORMANCE_TORCH_IMPORT_H_
