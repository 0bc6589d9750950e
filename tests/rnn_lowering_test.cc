// Fused oneDNN recurrent layers against their step-by-step reference
// lowering (graph/rnn_lowering.h): same weights, same inputs, same outputs
// and gradients, for every cell, 1 and 2 layers, both directions.
#include "rnnflow/graph/rnn_lowering.h"

#include <cmath>
#include <random>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/session.h"

namespace rnnflow {
namespace {

struct Cell {
  const char* name;
  const char* op;
  const char* attrs;
};

const Cell kCells[] = {
    {"RnnTanh", "RNN", R"(attr { key: "activation" value { s: "tanh" } })"},
    {"RnnRelu", "RNN", R"(attr { key: "activation" value { s: "relu" } })"},
    {"Lstm", "LSTM", ""},
    {"GruLbr", "GRU", R"(attr { key: "linear_before_reset" value { b: true } })"},
    {"GruClassic", "GRU", R"(attr { key: "linear_before_reset" value { b: false } })"},
};

constexpr int kT = 4, kN = 2, kC = 3, kH = 5;

std::string ModelText(const Cell& cell, int layers, bool bidirectional) {
  return absl::Substitute(R"(
format_version: 1
name: "fused"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "$0"] }
input { name: "target" dtype: FLOAT32 dim: ["T", "N", "$1"] }
node {
  name: "rnn" op: "$2" input: "x"
  attr { key: "hidden" value { i: $3 } }
  attr { key: "layers" value { i: $4 } }
  attr { key: "direction" value { s: "$5" } }
  $6
}
node { name: "loss" op: "MeanSquaredError" input: ["rnn", "target"] }
loss: "loss"
)",
                          kC, (bidirectional ? 2 : 1) * kH, cell.op, kH, layers,
                          bidirectional ? "bidirectional" : "forward", cell.attrs);
}

class RnnLoweringTest : public testing::TestWithParam<std::tuple<int, int, bool>> {};

TEST_P(RnnLoweringTest, FusedMatchesUnrolledReference) {
  const Cell& cell = kCells[std::get<0>(GetParam())];
  const int layers = std::get<1>(GetParam());
  const bool bidirectional = std::get<2>(GetParam());
  auto parsed = ParseModelText(ModelText(cell, layers, bidirectional), "fused.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto lowered_model = LowerRecurrentLayers(parsed->model);
  ASSERT_TRUE(lowered_model.ok()) << lowered_model.status();

  auto fused_graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(fused_graph.ok()) << fused_graph.status();
  auto lowered_graph = Graph::Build(*lowered_model, SourceMap("lowered.pbtxt"));
  ASSERT_TRUE(lowered_graph.ok()) << lowered_graph.status() << "\n" << ModelToText(*lowered_model);

  SessionOptions options;
  options.bindings = {{"T", kT}, {"N", kN}};
  auto fused = Session::Create(*fused_graph, options);
  ASSERT_TRUE(fused.ok()) << fused.status();
  auto lowered = Session::Create(*lowered_graph, options);
  ASSERT_TRUE(lowered.ok()) << lowered.status();

  // Same weights (by name; biases are flat in the lowering), same inputs.
  ASSERT_EQ(fused_graph->params().size(), lowered_graph->params().size());
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-0.6f, 0.6f);
  for (size_t p = 0; p < fused_graph->params().size(); ++p) {
    const std::string& name = fused_graph->params()[p].name;
    const int q = lowered_graph->FindTensor(name);
    ASSERT_GE(q, 0) << name;
    const Tensor& a = (*fused)->params()[p];
    const Tensor b = (*lowered)->value(q);
    ASSERT_EQ(a.num_elements(), b.num_elements()) << name;
    for (int64_t i = 0; i < a.num_elements(); ++i) a.f32()[i] = b.f32()[i] = u(rng);
  }
  for (const char* input : {"x", "target"}) {
    Tensor a = *(*fused)->input(input);
    Tensor b = *(*lowered)->input(input);
    for (int64_t i = 0; i < a.num_elements(); ++i) a.f32()[i] = b.f32()[i] = u(rng);
  }

  // Two chunks: the second starts from the carried state of the first.
  for (int chunk = 0; chunk < 2; ++chunk) {
    SCOPED_TRACE(absl::StrCat("chunk ", chunk));
    ASSERT_TRUE((*fused)->Forward().ok());
    ASSERT_TRUE((*lowered)->Forward().ok());
    const Tensor y1 = *(*fused)->value("rnn");
    const Tensor y2 = *(*lowered)->value("rnn");
    ASSERT_EQ(y1.shape(), y2.shape());
    for (int64_t i = 0; i < y1.num_elements(); ++i) {
      ASSERT_NEAR(y1.f32()[i], y2.f32()[i], 1e-5) << "y[" << i << "]";
    }
    ASSERT_TRUE((*fused)->Backward().ok());
    ASSERT_TRUE((*lowered)->Backward().ok());
    for (size_t p = 0; p < fused_graph->params().size(); ++p) {
      const std::string& name = fused_graph->params()[p].name;
      const Tensor g1 = (*fused)->param_grads()[p];
      const Tensor g2 = (*lowered)->gradient(lowered_graph->FindTensor(name));
      double max_abs = 1e-6, max_err = 0;
      for (int64_t i = 0; i < g1.num_elements(); ++i) {
        max_abs = std::max(max_abs, std::abs(double(g2.f32()[i])));
        max_err = std::max(max_err, std::abs(double(g1.f32()[i]) - g2.f32()[i]));
      }
      EXPECT_LT(max_err / max_abs, 1e-4) << "gradient of " << name;
    }
    (*fused)->CarryStates();
    (*lowered)->CarryStates();
  }
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnLoweringTest,
                         testing::Combine(testing::Range(0, 5), testing::Values(1, 2),
                                          testing::Bool()),
                         [](const testing::TestParamInfo<std::tuple<int, int, bool>>& info) {
                           return absl::StrCat(kCells[std::get<0>(info.param)].name, "_L",
                                               std::get<1>(info.param),
                                               std::get<2>(info.param) ? "_Bidir" : "_Fwd");
                         });

}  // namespace
}  // namespace rnnflow
