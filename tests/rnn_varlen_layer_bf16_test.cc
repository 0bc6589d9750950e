// Mixed precision (RnnLayerConfig::bf16) in the layer for lengths and resets
// (ops/internal/rnn_varlen_layer.h): RNN tanh, LSTM and GRU, one and two directions,
// with lengths, with resets and with both.
//
// 1. Against the same layer in float32 on the same weights and inputs:
//    outputs, final states and every gradient agree within 3e-2 relative L2
//    error, the bound tests/rnn_layer_bf16_test.cc uses and justifies for
//    these sizes (bfloat16 rounds each value by up to 2^-9; through GEMMs of
//    a few dozen terms and 11 recurrent steps that stays at the 1e-2 level,
//    while a wrong binding, a missed conversion or a stale bf16 copy gives
//    O(1) errors). The errors must also be above float32 rounding: otherwise
//    bf16 never ran.
// 2. Padding (t >= length) of y and dx is exactly zero.
// 3. Each column equals the same column run alone (a batch of one, in bf16):
//    its outputs, final states and input/state gradients, and the parameter
//    gradients are the sum over the columns run alone. Both runs round the
//    same values to bf16, but GEMMs of other batch sizes may sum in another
//    order (measured here: identical outputs, gradients 1e-7 apart); a
//    float32 ulp that tips a bf16 rounding would change one value by 2^-8
//    relative, so the bound is 1e-3 relative L2, far below the O(1) error
//    of a column reading another column's state or a piece's stale state.
//
// CPUs without bf16 support make oneDNN refuse the primitive; the test then
// skips, naming the reason.
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/ops/internal/dnnl_context.h"
#include "rnnflow/ops/internal/rnn_varlen_layer.h"
#include "tests/testing/bf16_compare.h"

namespace rnnflow {
namespace {

enum class Masks { kLengths, kResets, kBoth };

struct Case {
  RnnCell cell;
  bool bidirectional;
  Masks masks;
};

// Inputs of one layer's forward and backward pass, batch-major as the layer
// takes them: x and dy [T,N,*], states [D,N,H], resets [T,N].
struct Inputs {
  int64_t N = 0;
  std::vector<int32_t> lengths;  // empty: none
  std::vector<float> resets;     // empty: none
  std::vector<float> x, h0, c0, dy, dh_n, dc_n;
};

// Copies column n out of a batch buffer of `outer` rows of N x width.
std::vector<float> ColumnOf(const std::vector<float>& v, int64_t outer, int64_t N, int64_t n,
                            int64_t width) {
  std::vector<float> r;
  for (int64_t o = 0; o < outer; ++o) {
    const auto at = v.begin() + (o * N + n) * width;
    r.insert(r.end(), at, at + width);
  }
  return r;
}

class RnnVarlenLayerBf16Test : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    config_.cell = GetParam().cell;
    config_.bidirectional = GetParam().bidirectional;
    config_.T = 11;  // pieces of 8, 4, 2 and 1 steps besides the whole
    config_.N = 5;
    config_.I = 40;
    config_.H = 32;
    lstm_ = config_.cell == RnnCell::kLstm;
    D_ = config_.bidirectional ? 2 : 1;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> uni(-1.f, 1.f);
    auto random = [&](size_t n, float scale) {
      std::vector<float> v(n);
      for (float& e : v) e = scale * uni(rng);
      return v;
    };
    const int64_t G = RnnGateCount(config_.cell), Gb = RnnBiasRows(config_.cell);
    const float w_scale = 1.f / std::sqrt(static_cast<float>(config_.H));
    for (int d = 0; d < D_; ++d) {
      wx_.push_back(random(static_cast<size_t>(config_.I * G * config_.H), w_scale));
      wh_.push_back(random(static_cast<size_t>(config_.H * G * config_.H), w_scale));
      b_.push_back(random(static_cast<size_t>(Gb * config_.H), w_scale));
    }
    const int64_t T = config_.T, N = config_.N, H = config_.H;
    in_.N = N;
    const Masks masks = GetParam().masks;
    if (masks != Masks::kResets) in_.lengths = {11, 7, 1, 4, 9};
    if (masks != Masks::kLengths) {
      in_.resets.assign(static_cast<size_t>(T * N), 0.f);
      const int64_t kResets[][2] = {{0, 1}, {3, 0}, {3, 3}, {5, 4}, {6, 1}, {8, 0}, {2, 2}};
      for (const auto& tn : kResets) in_.resets[tn[0] * N + tn[1]] = 1.f;
    }
    const size_t state = static_cast<size_t>(D_ * N * H);
    in_.x = random(static_cast<size_t>(T * N * config_.I), 1.f);
    in_.h0 = random(state, 0.5f);
    in_.c0 = random(state, 0.5f);
    in_.dy = random(static_cast<size_t>(T * N * D_ * H), 1.f);
    in_.dh_n = random(state, 1.f);
    in_.dc_n = random(state, 1.f);
  }

  // Runs a fresh layer (batch in.N) forward and backward; parameter
  // gradients are ADDED into `pass` (sized by the caller's first call).
  absl::Status Run(bool bf16, const Inputs& in, RnnPass& pass) const {
    RnnLayerConfig c = config_;
    c.bf16 = bf16;
    c.N = in.N;
    auto layer = RnnVarlenLayer::Create(c, CpuEngine(), CpuStream());
    if (!layer.ok()) return layer.status();
    const size_t state = static_cast<size_t>(D_ * in.N * c.H);
    pass.y.assign(static_cast<size_t>(c.T * in.N * D_ * c.H), -1.f);
    pass.h_n.assign(state, 0.f);
    pass.c_n.assign(state, 0.f);
    pass.dx.assign(in.x.size(), -1.f);
    pass.dh0.assign(state, 0.f);
    pass.dc0.assign(state, 0.f);
    pass.dwx.resize(D_);
    pass.dwh.resize(D_);
    pass.db.resize(D_);
    std::vector<RnnDirWeights> weights(D_);
    std::vector<RnnDirGrads> grads(D_);
    for (int d = 0; d < D_; ++d) {
      weights[d] = {wx_[d].data(), wh_[d].data(), b_[d].data()};
      pass.dwx[d].resize(wx_[d].size(), 0.f);
      pass.dwh[d].resize(wh_[d].size(), 0.f);
      pass.db[d].resize(b_[d].size(), 0.f);
      grads[d] = {pass.dwx[d].data(), pass.dwh[d].data(), pass.db[d].data()};
    }
    RF_RETURN_IF_ERROR(
        (*layer)->Forward(in.x.data(), in.lengths.empty() ? nullptr : in.lengths.data(),
                          in.resets.empty() ? nullptr : in.resets.data(), in.h0.data(),
                          lstm_ ? in.c0.data() : nullptr, weights.data(), pass.y.data(),
                          pass.h_n.data(), lstm_ ? pass.c_n.data() : nullptr));
    return (*layer)->Backward(in.dy.data(), in.dh_n.data(), lstm_ ? in.dc_n.data() : nullptr,
                              pass.dx.data(), pass.dh0.data(), lstm_ ? pass.dc0.data() : nullptr,
                              grads.data());
  }

  // Column n of `in` as a batch of one.
  Inputs Column(int64_t n) const {
    const int64_t T = config_.T, N = config_.N, I = config_.I, H = config_.H;
    Inputs one;
    one.N = 1;
    if (!in_.lengths.empty()) one.lengths = {in_.lengths[n]};
    for (int64_t t = 0; t < T && !in_.resets.empty(); ++t) {
      one.resets.push_back(in_.resets[t * N + n]);
    }
    one.x = ColumnOf(in_.x, T, N, n, I);
    one.dy = ColumnOf(in_.dy, T, N, n, D_ * H);
    one.h0 = ColumnOf(in_.h0, D_, N, n, H);
    one.c0 = ColumnOf(in_.c0, D_, N, n, H);
    one.dh_n = ColumnOf(in_.dh_n, D_, N, n, H);
    one.dc_n = ColumnOf(in_.dc_n, D_, N, n, H);
    return one;
  }

  RnnLayerConfig config_;
  bool lstm_ = false;
  int D_ = 1;
  std::vector<std::vector<float>> wx_, wh_, b_;
  Inputs in_;
};

TEST_P(RnnVarlenLayerBf16Test, MatchesFloat32AndColumnsRunAlone) {
  RnnPass bf16;
  const absl::Status s = Run(true, in_, bf16);
  if (absl::IsInternal(s)) {
    GTEST_SKIP() << "oneDNN has no bf16 " << RnnCellName(config_.cell)
                 << " on this CPU: " << s.message();
  }
  ASSERT_TRUE(s.ok()) << s;
  RnnPass f32;
  ASSERT_TRUE(Run(false, in_, f32).ok());

  // 1. Close to float32, but not float32.
  ExpectBf16PassClose(bf16, f32, lstm_);

  // 2. Padding gets and gives nothing.
  const int64_t T = config_.T, N = config_.N, I = config_.I, H = config_.H;
  int padded = 0;
  for (int64_t n = 0; n < N && !in_.lengths.empty(); ++n) {
    for (int64_t t = in_.lengths[n]; t < T; ++t, ++padded) {
      for (int64_t k = 0; k < D_ * H; ++k) {
        ASSERT_EQ(bf16.y[(t * N + n) * D_ * H + k], 0.f) << "y at t=" << t << " n=" << n;
      }
      for (int64_t k = 0; k < I; ++k) {
        ASSERT_EQ(bf16.dx[(t * N + n) * I + k], 0.f) << "dx at t=" << t << " n=" << n;
      }
    }
  }
  EXPECT_EQ(padded, in_.lengths.empty() ? 0 : 23);  // (11 - length) summed over columns

  // 3. Every column as if alone; parameter gradients summed over columns.
  RnnPass alone_sum;
  for (int64_t n = 0; n < N; ++n) {
    RnnPass alone = alone_sum;  // carries the parameter gradients summed so far
    ASSERT_TRUE(Run(true, Column(n), alone).ok());
    const std::string col = absl::StrCat(" of column ", n);
    auto expect_same = [&](const std::vector<float>& batch, int64_t outer, int64_t width,
                           const std::vector<float>& one, const std::string& what) {
      EXPECT_LT(RelativeL2(ColumnOf(batch, outer, N, n, width), one), 1e-3) << what << col;
    };
    expect_same(bf16.y, T, D_ * H, alone.y, "y");
    expect_same(bf16.dx, T, I, alone.dx, "dx");
    expect_same(bf16.h_n, D_, H, alone.h_n, "h_n");
    expect_same(bf16.dh0, D_, H, alone.dh0, "dh0");
    if (lstm_) {
      expect_same(bf16.c_n, D_, H, alone.c_n, "c_n");
      expect_same(bf16.dc0, D_, H, alone.dc0, "dc0");
    }
    alone_sum = std::move(alone);
  }
  for (int d = 0; d < D_; ++d) {
    const std::string dir = d == 0 ? " (forward)" : " (reverse)";
    EXPECT_LT(RelativeL2(alone_sum.dwx[d], bf16.dwx[d]), 1e-3) << "dW_x" << dir;
    EXPECT_LT(RelativeL2(alone_sum.dwh[d], bf16.dwh[d]), 1e-3) << "dW_h" << dir;
    EXPECT_LT(RelativeL2(alone_sum.db[d], bf16.db[d]), 1e-3) << "db" << dir;
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  static const char* const kCells[] = {"RnnTanh", "RnnRelu", "Lstm", "Gru", "LbrGru"};
  static const char* const kMasks[] = {"Lengths", "Resets", "LengthsAndResets"};
  return absl::StrCat(kCells[static_cast<int>(info.param.cell)],
                      info.param.bidirectional ? "Bidirectional" : "Forward",
                      kMasks[static_cast<int>(info.param.masks)]);
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (RnnCell cell : {RnnCell::kRnnTanh, RnnCell::kLstm, RnnCell::kGru}) {
    for (bool bidirectional : {false, true}) {
      for (Masks masks : {Masks::kLengths, Masks::kResets, Masks::kBoth}) {
        cases.push_back(Case{cell, bidirectional, masks});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(CellsDirectionsMasks, RnnVarlenLayerBf16Test,
                         ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace rnnflow
