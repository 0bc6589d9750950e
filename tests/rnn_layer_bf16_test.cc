// Mixed precision (RnnLayerConfig::bf16): every cell and direction computed
// in bfloat16 against the same layer in float32, on the same weights and
// inputs. bfloat16 keeps 8 bits of mantissa (relative rounding 2^-9 = 2e-3
// per value); through a GEMM of a few hundred terms and T recurrent steps
// the errors stay at the 1e-2 level, so outputs and every gradient must
// agree with float32 within 3e-2 relative L2 error, while a wrong layout,
// a missing conversion or a stale bf16 copy gives O(1) errors. The errors
// must also be above float32 rounding: otherwise bf16 never ran.
//
// CPUs without bf16 support make oneDNN refuse the primitive; the test then
// skips, naming the reason.
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/ops/internal/dnnl_context.h"
#include "rnnflow/ops/internal/rnn_layer.h"
#include "tests/testing/bf16_compare.h"

namespace rnnflow {
namespace {

struct Case {
  RnnCell cell;
  bool bidirectional;
};

class RnnLayerBf16Test : public ::testing::TestWithParam<Case> {};

TEST_P(RnnLayerBf16Test, MatchesFloat32WithinBf16Rounding) {
  RnnLayerConfig config;
  config.cell = GetParam().cell;
  config.bidirectional = GetParam().bidirectional;
  config.T = 12;
  config.N = 8;
  config.I = 40;
  config.H = 32;
  const bool lstm = config.cell == RnnCell::kLstm;
  const int D = config.bidirectional ? 2 : 1;
  const int64_t G = RnnGateCount(config.cell), Gb = RnnBiasRows(config.cell);
  const size_t state = static_cast<size_t>(D * config.N * config.H);
  const size_t seq_in = static_cast<size_t>(config.T * config.N * config.I);
  const size_t seq_out = static_cast<size_t>(config.T * config.N * D * config.H);

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  auto random = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (float& e : v) e = scale * uni(rng);
    return v;
  };
  const float w_scale = 1.f / std::sqrt(static_cast<float>(config.H));
  std::vector<std::vector<float>> wx, wh, b;
  for (int d = 0; d < D; ++d) {
    wx.push_back(random(static_cast<size_t>(config.I * G * config.H), w_scale));
    wh.push_back(random(static_cast<size_t>(config.H * G * config.H), w_scale));
    b.push_back(random(static_cast<size_t>(Gb * config.H), w_scale));
  }
  const std::vector<float> x = random(seq_in, 1.f), h0 = random(state, 0.5f),
                           c0 = random(state, 0.5f), dy = random(seq_out, 1.f),
                           dh_n = random(state, 1.f), dc_n = random(state, 1.f);

  auto run = [&](bool bf16) -> absl::StatusOr<RnnPass> {
    RnnLayerConfig c = config;
    c.bf16 = bf16;
    auto layer = RnnLayer::Create(c, CpuEngine(), CpuStream());
    if (!layer.ok()) return layer.status();
    std::vector<RnnDirWeights> weights(D);
    RnnPass r;
    r.dwx.resize(D);
    r.dwh.resize(D);
    r.db.resize(D);
    std::vector<RnnDirGrads> grads(D);
    for (int d = 0; d < D; ++d) {
      weights[d] = {wx[d].data(), wh[d].data(), b[d].data()};
      r.dwx[d].assign(wx[d].size(), 0.f);
      r.dwh[d].assign(wh[d].size(), 0.f);
      r.db[d].assign(b[d].size(), 0.f);
      grads[d] = {r.dwx[d].data(), r.dwh[d].data(), r.db[d].data()};
    }
    r.y.assign(seq_out, 0.f);
    r.h_n.assign(state, 0.f);
    r.c_n.assign(state, 0.f);
    r.dx.assign(seq_in, 0.f);
    r.dh0.assign(state, 0.f);
    r.dc0.assign(state, 0.f);
    RF_RETURN_IF_ERROR((*layer)->Forward(x.data(), h0.data(), lstm ? c0.data() : nullptr,
                                         weights.data(), r.y.data(), r.h_n.data(),
                                         lstm ? r.c_n.data() : nullptr));
    RF_RETURN_IF_ERROR((*layer)->Backward(dy.data(), dh_n.data(), lstm ? dc_n.data() : nullptr,
                                          r.dx.data(), r.dh0.data(), lstm ? r.dc0.data() : nullptr,
                                          grads.data()));
    return r;
  };

  auto bf16 = run(true);
  if (!bf16.ok() && absl::IsInternal(bf16.status())) {
    GTEST_SKIP() << "oneDNN has no bf16 " << RnnCellName(config.cell)
                 << " on this CPU: " << bf16.status().message();
  }
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  auto f32 = run(false);
  ASSERT_TRUE(f32.ok()) << f32.status();

  ExpectBf16PassClose(*bf16, *f32, lstm);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  static const char* const kNames[] = {"RnnTanh", "RnnRelu", "Lstm", "Gru", "LbrGru"};
  return std::string(kNames[static_cast<int>(info.param.cell)]) +
         (info.param.bidirectional ? "Bidirectional" : "Forward");
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnLayerBf16Test,
                         ::testing::Values(Case{RnnCell::kRnnTanh, false},
                                           Case{RnnCell::kRnnRelu, false},
                                           Case{RnnCell::kLstm, false}, Case{RnnCell::kLstm, true},
                                           Case{RnnCell::kGru, false},
                                           Case{RnnCell::kLbrGru, true}),
                         CaseName);

}  // namespace
}  // namespace rnnflow
