// Variable-length sequences and state resets in the fused RNN/LSTM/GRU
// kernels (ops/internal/rnn_varlen_layer.h), built through the op registry.
//
// The reference is the definition itself: a padded batch with lengths (and
// resets) must equal running every piece of every column alone, as a batch
// of one without lengths, through the fast single-primitive path. A column's
// pieces are cut at its resets and end at its length. For each piece the
// forward direction starts from the column's h0 (first piece, no reset at
// t = 0) or zeros, the reverse direction from h0 (last piece) or zeros; the
// final states are the forward one of the last piece and the reverse one of
// the first. Outputs, final states and the gradients of x, h0, c0 and every
// parameter (the sum over pieces) are compared, with the loss
// sum R_y*y + R_h*h_n [+ R_c*c_n] split among the pieces accordingly.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/conformance/reference_case.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/kernel.h"
#include "rnnflow/runtime/session.h"
#include "tests/testing/gradient_check.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

struct CellConfig {
  const char* label;
  const char* op;
  const char* activation;
  bool lbr;
};

const CellConfig kCells[] = {
    {"RnnTanh", "RNN", "tanh", true},     {"RnnRelu", "RNN", "relu", true},
    {"Lstm", "LSTM", "tanh", true},       {"GruLbr", "GRU", "tanh", true},
    {"GruClassic", "GRU", "tanh", false},
};

constexpr int kC = 3, kH = 4;

// A built node with a buffer for every input, output and gradient.
struct Built {
  RecurrentNode node;
  std::vector<std::vector<float>> in, in_grad, out, out_grad;
  std::vector<int32_t> lengths;
  int x = 0, h0 = 1, c0 = -1, len = -1, resets = -1;  // input indices

  KernelContext Context(bool backward) {
    KernelContext ctx;
    for (size_t i = 0; i < in.size(); ++i) {
      const bool present = node.input_present[i];
      void* data = !present                     ? nullptr
                   : static_cast<int>(i) == len ? static_cast<void*>(lengths.data())
                                                : static_cast<void*>(in[i].data());
      ctx.inputs.emplace_back(node.input_dtypes[i], node.input_shapes[i], data);
      if (backward) {
        const bool grad =
            present && node.input_dtypes[i] == FLOAT32 && static_cast<int>(i) != resets;
        ctx.input_grads.emplace_back(FLOAT32, node.input_shapes[i],
                                     grad ? in_grad[i].data() : nullptr);
      }
    }
    for (size_t o = 0; o < out.size(); ++o) {
      ctx.outputs.emplace_back(FLOAT32, node.output_shapes[o], out[o].data());
      if (backward)
        ctx.output_grads.emplace_back(FLOAT32, node.output_shapes[o], out_grad[o].data());
    }
    return ctx;
  }
  absl::Status Forward() {
    KernelContext ctx = Context(false);
    return node.kernel->Forward(ctx);
  }
  absl::Status Backward() {
    for (auto& g : in_grad) std::fill(g.begin(), g.end(), 0.f);
    KernelContext ctx = Context(true);
    return node.kernel->Backward(ctx);
  }
};

RecurrentNodeSpec Spec(const CellConfig& cell, int layers, bool bidirectional, int T, int N) {
  RecurrentNodeSpec spec;
  spec.name = "rnn";
  spec.op = cell.op;
  spec.activation = cell.activation;
  spec.linear_before_reset = cell.lbr;
  spec.hidden = kH;
  spec.layers = layers;
  spec.bidirectional = bidirectional;
  spec.T = T;
  spec.N = N;
  spec.C = kC;
  return spec;
}

absl::StatusOr<Built> Build(const RecurrentNodeSpec& spec) {
  Built b;
  RF_ASSIGN_OR_RETURN(b.node, BuildRecurrentNode(spec));
  const OpSchema* schema = OpRegistry::Global().Find(spec.op);
  b.h0 = schema->FindInput("h0");
  b.c0 = schema->FindInput("c0");
  b.len = schema->FindInput("lengths");
  b.resets = schema->FindInput("resets");
  const size_t ni = b.node.input_shapes.size();
  b.in.resize(ni);
  b.in_grad.resize(ni);
  for (size_t i = 0; i < ni; ++i) {
    if (!b.node.input_present[i]) continue;
    b.in[i].assign(NumElements(b.node.input_shapes[i]), 0.f);
    b.in_grad[i].assign(b.in[i].size(), 0.f);
  }
  if (spec.with_lengths) b.lengths.assign(spec.N, static_cast<int32_t>(spec.T));
  for (const Shape& s : b.node.output_shapes) {
    b.out.emplace_back(NumElements(s), 0.f);
    b.out_grad.emplace_back(NumElements(s), 0.f);
  }
  return b;
}

void ExpectClose(float got, float want, const std::string& what) {
  EXPECT_NEAR(got, want, 2e-5 * (1 + std::fabs(want))) << what;
}

// Builds the padded node, runs it, and compares it with every piece alone.
void CheckAgainstPieces(const CellConfig& cell, int layers, bool bidirectional, int T,
                        const std::vector<int32_t>& lengths, const std::vector<float>& resets,
                        bool with_state, unsigned seed) {
  const int N = static_cast<int>(lengths.size());
  const int D = bidirectional ? 2 : 1;
  const bool lstm = std::string(cell.op) == "LSTM";
  RecurrentNodeSpec spec = Spec(cell, layers, bidirectional, T, N);
  spec.with_h0 = with_state;
  spec.with_c0 = with_state && lstm;
  spec.with_lengths = true;
  spec.with_resets = !resets.empty();
  auto padded_or = Build(spec);
  ASSERT_TRUE(padded_or.ok()) << padded_or.status();
  Built& padded = *padded_or;
  padded.lengths = lengths;
  if (!resets.empty()) padded.in[padded.resets] = resets;

  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  const int num_declared = padded.node.num_declared_inputs;
  for (size_t i = 0; i < padded.in.size(); ++i) {
    if (static_cast<int>(i) == padded.resets || static_cast<int>(i) == padded.len) continue;
    const float scale = static_cast<int>(i) < num_declared ? 1.f : 0.6f;
    for (float& v : padded.in[i]) v = scale * uni(rng);
  }
  for (auto& r : padded.out_grad) {
    for (float& v : r) v = uni(rng);
  }
  ASSERT_TRUE(padded.Forward().ok());
  ASSERT_TRUE(padded.Backward().ok());

  const int64_t rows = static_cast<int64_t>(layers) * D;
  const int num_params = static_cast<int>(padded.node.params.size());
  std::vector<std::vector<double>> param_sum(num_params);
  for (int p = 0; p < num_params; ++p) {
    param_sum[p].assign(padded.in[num_declared + p].size(), 0.0);
  }
  const int state_outputs = lstm ? 2 : 1;  // h_n [, c_n]
  const int state_inputs[2] = {padded.h0, padded.c0};

  for (int n = 0; n < N; ++n) {
    SCOPED_TRACE(absl::StrCat("column ", n, " of length ", lengths[n]));
    const int len = lengths[n];
    std::vector<int> cuts = {0};
    for (int t = 1; t < len; ++t) {
      if (!resets.empty() && resets[t * N + n] != 0.f) cuts.push_back(t);
    }
    cuts.push_back(len);
    const bool reset0 = !resets.empty() && resets[n] != 0.f;
    const int pieces = static_cast<int>(cuts.size()) - 1;
    for (int j = 0; j < pieces; ++j) {
      const int a = cuts[j], steps = cuts[j + 1] - a;
      SCOPED_TRACE(absl::StrCat("piece [", a, ", ", a + steps, ")"));
      RecurrentNodeSpec one = Spec(cell, layers, bidirectional, steps, 1);
      one.with_h0 = true;
      one.with_c0 = lstm;
      auto alone_or = Build(one);
      ASSERT_TRUE(alone_or.ok()) << alone_or.status();
      Built& alone = *alone_or;
      for (int p = 0; p < num_params; ++p) alone.in[num_declared + p] = padded.in[num_declared + p];
      for (int t = 0; t < steps; ++t) {
        std::copy_n(&padded.in[padded.x][((a + t) * N + n) * kC], kC, &alone.in[alone.x][t * kC]);
        std::copy_n(&padded.out_grad[0][((a + t) * N + n) * D * kH], D * kH,
                    &alone.out_grad[0][t * D * kH]);
      }
      // Initial states and final-state gradients of this piece.
      for (int64_t r = 0; r < rows; ++r) {
        const bool fwd = r % D == 0;
        const bool gets_h0 = fwd ? (j == 0 && !reset0) : j == pieces - 1;
        const bool gives_final = fwd ? j == pieces - 1 : j == 0;
        for (int s = 0; s < state_outputs; ++s) {
          const int si = state_inputs[s];
          for (int k = 0; k < kH; ++k) {
            alone.in[si][r * kH + k] =
                gets_h0 && with_state ? padded.in[si][(r * N + n) * kH + k] : 0.f;
            alone.out_grad[1 + s][r * kH + k] =
                gives_final ? padded.out_grad[1 + s][(r * N + n) * kH + k] : 0.f;
          }
        }
      }
      ASSERT_TRUE(alone.Forward().ok());
      ASSERT_TRUE(alone.Backward().ok());

      for (int t = 0; t < steps; ++t) {
        for (int k = 0; k < D * kH; ++k) {
          ExpectClose(padded.out[0][((a + t) * N + n) * D * kH + k], alone.out[0][t * D * kH + k],
                      absl::StrCat("y[", a + t, "][", k, "]"));
        }
        for (int k = 0; k < kC; ++k) {
          ExpectClose(padded.in_grad[padded.x][((a + t) * N + n) * kC + k],
                      alone.in_grad[alone.x][t * kC + k], absl::StrCat("dx[", a + t, "][", k, "]"));
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        const bool fwd = r % D == 0;
        const bool gets_h0 = fwd ? (j == 0 && !reset0) : j == pieces - 1;
        const bool gives_final = fwd ? j == pieces - 1 : j == 0;
        for (int s = 0; s < state_outputs; ++s) {
          for (int k = 0; k < kH; ++k) {
            if (gives_final) {
              ExpectClose(padded.out[1 + s][(r * N + n) * kH + k], alone.out[1 + s][r * kH + k],
                          absl::StrCat(s ? "c_n[" : "h_n[", r, "][", k, "]"));
            }
            if (with_state && (gets_h0 || (fwd && j == 0))) {
              const float want = gets_h0 ? alone.in_grad[state_inputs[s]][r * kH + k] : 0.f;
              ExpectClose(padded.in_grad[state_inputs[s]][(r * N + n) * kH + k], want,
                          absl::StrCat(s ? "dc0[" : "dh0[", r, "][", k, "]"));
            }
          }
        }
      }
      for (int p = 0; p < num_params; ++p) {
        const std::vector<float>& g = alone.in_grad[num_declared + p];
        for (size_t e = 0; e < g.size(); ++e) param_sum[p][e] += g[e];
      }
    }
    // Padding: zero output, zero input gradient.
    for (int t = len; t < T; ++t) {
      for (int k = 0; k < D * kH; ++k) {
        EXPECT_EQ(padded.out[0][(t * N + n) * D * kH + k], 0.f) << "y[" << t << "]";
      }
      for (int k = 0; k < kC; ++k) {
        EXPECT_EQ(padded.in_grad[padded.x][(t * N + n) * kC + k], 0.f) << "dx[" << t << "]";
      }
    }
  }
  for (int p = 0; p < num_params; ++p) {
    const std::vector<float>& g = padded.in_grad[num_declared + p];
    for (size_t e = 0; e < g.size(); ++e) {
      ExpectClose(g[e], static_cast<float>(param_sum[p][e]),
                  absl::StrCat("gradient of ", padded.node.params[p].name, "[", e, "]"));
    }
  }
}

using Param = std::tuple<int, int, bool>;  // cell, layers, bidirectional

std::string Name(const ::testing::TestParamInfo<Param>& info) {
  const auto [cell, layers, bidirectional] = info.param;
  return absl::StrCat(kCells[cell].label, "_L", layers, bidirectional ? "_Bidir" : "_Forward");
}

class RnnLengthsTest : public ::testing::TestWithParam<Param> {};

TEST_P(RnnLengthsTest, PaddedBatchEqualsEachSequenceAlone) {
  const auto [cell, layers, bidirectional] = GetParam();
  // Lengths 1 and T, a repeated one, and the batch's longest below T.
  CheckAgainstPieces(kCells[cell], layers, bidirectional, 6, {6, 1, 3, 3, 5}, {}, true, 11 + cell);
  // Every sequence shorter than T: nothing runs past the longest.
  CheckAgainstPieces(kCells[cell], layers, bidirectional, 7, {2, 4, 1}, {}, false, 21 + cell);
}

TEST_P(RnnLengthsTest, ResetsEqualPiecesRunSeparately) {
  const auto [cell, layers, bidirectional] = GetParam();
  constexpr int T = 6, N = 4;
  std::vector<float> resets(T * N, 0.f);
  // Asymmetric cuts, so that a reverse direction cutting at t instead of
  // len - t fails.
  resets[2 * N + 0] = 1;  // column 0: [0,2) [2,6)
  resets[0 * N + 1] = 1;  // column 1: zero initial state
  resets[1 * N + 2] = 1;  // column 2: [0,1) [1,3) [3,5), then padding
  resets[3 * N + 2] = 1;
  resets[5 * N + 3] = 1;  // column 3: a reset past its end is ignored
  CheckAgainstPieces(kCells[cell], layers, bidirectional, T, {6, 6, 5, 4}, resets, true, 31 + cell);
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnLengthsTest,
                         ::testing::Combine(::testing::Range(0, 5), ::testing::Values(1, 2),
                                            ::testing::Bool()),
                         Name);

// Finite differences through the lengths/resets path: every float input and
// parameter, lengths 1 and T, a reset in a column.
class RnnLengthsGradientTest : public ::testing::TestWithParam<Param> {};

TEST_P(RnnLengthsGradientTest, MatchesFiniteDifferences) {
  const auto [cell_index, layers, bidirectional] = GetParam();
  const CellConfig& cell = kCells[cell_index];
  const bool lstm = std::string(cell.op) == "LSTM";
  constexpr int T = 4, N = 3;
  const int64_t rows = layers * (bidirectional ? 2 : 1);
  NodeDef node = MakeNode({{"hidden", IntAttr(3)},
                           {"layers", IntAttr(layers)},
                           {"direction", StringAttr(bidirectional ? "bidirectional" : "forward")}});
  if (std::string(cell.op) == "RNN")
    (*node.mutable_attr())["activation"] = StringAttr(cell.activation);
  if (std::string(cell.op) == "GRU")
    (*node.mutable_attr())["linear_before_reset"] = BoolAttr(cell.lbr);
  node.set_name("rnn");
  InputSpec lengths;
  lengths.shape = {N};
  lengths.dtype = INT32;
  lengths.fill = [](const Tensor& t, std::mt19937_64&) {
    t.i32()[0] = T;
    t.i32()[1] = 1;
    t.i32()[2] = 3;
  };
  InputSpec resets;
  resets.shape = {T, N};
  resets.fill = [](const Tensor& t, std::mt19937_64&) {
    std::fill_n(t.f32(), T * N, 0.f);
    t.f32()[1 * N + 0] = 1;  // column 0 restarts at t = 1
  };
  std::vector<InputSpec> inputs = {InputSpec::Float({T, N, 2}),
                                   InputSpec::Float({rows, N, 3}, -0.5f, 0.5f)};
  if (lstm) inputs.push_back(InputSpec::Float({rows, N, 3}, -0.5f, 0.5f));
  inputs.push_back(lengths);
  inputs.push_back(resets);
  GradientCheckOptions options;
  options.epsilon = 5e-3;
  options.seed = 3 + cell_index;
  auto result = CheckGradients(cell.op, node, inputs, options);
  EXPECT_TRUE(GradientsMatch(result, 5e-3));
  ASSERT_TRUE(result.ok());
  int checked = 0;
  for (const InputGradientError& e : result->inputs) checked += e.checked;
  EXPECT_EQ(checked, (lstm ? 3 : 2) + 3 * rows);  // x, h0 [, c0], parameters
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnLengthsGradientTest,
                         ::testing::Values(Param{0, 1, false}, Param{1, 1, true}, Param{2, 2, true},
                                           Param{2, 1, false}, Param{3, 2, true},
                                           Param{4, 1, true}),
                         Name);

Built MustBuild(const RecurrentNodeSpec& spec) {
  auto b = Build(spec);
  EXPECT_TRUE(b.ok()) << b.status();
  return std::move(b).value();
}

TEST(RnnLengthsErrorsTest, BadLengthsAndResetsAreClearErrors) {
  RecurrentNodeSpec spec = Spec(kCells[2], 1, true, 5, 3);
  spec.with_lengths = true;
  spec.with_resets = true;
  Built b = MustBuild(spec);
  for (int32_t bad : {0, -2, 6}) {
    b.lengths = {5, 2, bad};
    const absl::Status s = b.Forward();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr(absl::StrCat("node 'rnn' (LSTM): input 'lengths' column 2 is ", bad,
                                       "; every length must be in [1, T=5]")));
  }
  b.lengths = {5, 2, 1};
  EXPECT_TRUE(b.Forward().ok());
  b.in[b.resets][1 * 3 + 1] = 0.5f;
  const absl::Status s = b.Forward();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("node 'rnn' (LSTM): input 'resets' at step 1 column 1 is 0.5; expected "
                        "0 or 1"));
}

// Shape and dtype errors come from the schema, pointing at the input.
TEST(RnnLengthsErrorsTest, WrongShapedInputsAreRejectedWithTheirLocation) {
  auto build = [](const std::string& lengths_decl, const std::string& resets_decl) {
    const std::string text = absl::StrCat(R"(format_version: 1
name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
)",
                                          lengths_decl, "\n", resets_decl, R"(
node { name: "enc" op: "GRU" input: ["x", "", "len", "rst"]
       attr { key: "hidden" value { i: 4 } } }
)");
    auto parsed = ParseModelText(text, "m.pbtxt");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    GraphOptions options;
    options.require_loss = false;
    auto graph = Graph::Build(parsed->model, parsed->source, options);
    return graph.ok() ? std::string("ok") : std::string(graph.status().message());
  };
  const std::string good_len = R"(input { name: "len" dtype: INT32 dim: ["N"] })";
  const std::string good_rst = R"(input { name: "rst" dtype: FLOAT32 dim: ["T", "N"] })";
  EXPECT_EQ(build(good_len, good_rst), "ok");
  EXPECT_THAT(build(R"(input { name: "len" dtype: INT32 dim: ["N", "2"] })", good_rst),
              HasSubstr("m.pbtxt:6:47: node 'enc' (GRU): input 'lengths' must have rank 1 [N]"));
  EXPECT_THAT(build(R"(input { name: "len" dtype: FLOAT32 dim: ["N"] })", good_rst),
              HasSubstr("input 'lengths' must be INT32; got FLOAT32"));
  EXPECT_THAT(build(R"(input { name: "len" dtype: INT32 dim: ["B"] })", good_rst),
              HasSubstr("input 'lengths' must have shape [N] with the batch N of 'x'"));
  EXPECT_THAT(build(good_len, R"(input { name: "rst" dtype: FLOAT32 dim: ["T", "N", "1"] })"),
              HasSubstr("input 'resets' must have rank 2 [T,N]"));
  EXPECT_THAT(build(good_len, R"(input { name: "rst" dtype: FLOAT32 dim: ["N", "T"] })"),
              HasSubstr("input 'resets' must have shape [T,N] like the first two axes of 'x'"));
}

// Through a Session: an INT32 [N] graph input feeds lengths and a [T,N]
// input resets; padding is zero, gradients flow, a bad length is reported.
TEST(RnnLengthsSessionTest, GraphInputsFeedLengthsAndResets) {
  constexpr char kModel[] = R"(
format_version: 1
name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "len" dtype: INT32 dim: ["N"] }
input { name: "rst" dtype: FLOAT32 dim: ["T", "N"] }
input { name: "target" dtype: FLOAT32 dim: ["T", "N", "8"] }
node { name: "enc" op: "LSTM" input: ["x", "", "", "len", "rst"]
       attr { key: "hidden" value { i: 4 } }
       attr { key: "direction" value { s: "bidirectional" } } }
node { name: "loss" op: "MeanSquaredError" input: ["enc", "target"] }
loss: "loss"
)";
  auto parsed = ParseModelText(kModel, "m.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  SessionOptions options;
  options.bindings = {{"T", 5}, {"N", 2}};
  auto session = Session::Create(*graph, options);
  ASSERT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  Tensor x = *s.input("x"), len = *s.input("len"), rst = *s.input("rst");
  Tensor target = *s.input("target");
  for (int64_t i = 0; i < x.num_elements(); ++i) x.f32()[i] = std::sin(0.3f * i);
  for (int64_t i = 0; i < target.num_elements(); ++i) target.f32()[i] = std::cos(0.2f * i);
  for (int64_t i = 0; i < rst.num_elements(); ++i) rst.f32()[i] = 0;
  len.i32()[0] = 5;
  len.i32()[1] = 2;
  rst.f32()[3 * 2 + 0] = 1;
  ASSERT_TRUE(s.Forward().ok());
  ASSERT_TRUE(s.Backward().ok());
  const Tensor y = *s.value("enc");
  for (int t = 2; t < 5; ++t) {
    for (int k = 0; k < 8; ++k) EXPECT_EQ(y.f32()[(t * 2 + 1) * 8 + k], 0.f);
  }
  double norm = 0;
  for (const Tensor& g : s.param_grads()) {
    for (int64_t i = 0; i < g.num_elements(); ++i) norm += std::fabs(g.f32()[i]);
  }
  EXPECT_GT(norm, 0);
  len.i32()[1] = 9;
  const absl::Status bad = s.Forward();
  EXPECT_THAT(std::string(bad.message()),
              HasSubstr("node 'enc' (LSTM): input 'lengths' column 1 is 9"));
}

}  // namespace
}  // namespace rnnflow
