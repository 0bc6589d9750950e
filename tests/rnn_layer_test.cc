// Gradient checks of the fused recurrent kernels (RNN, LSTM, GRU), built
// through the op registry like a plan builds them, against central finite
// differences; plus schema errors and call-to-call determinism.
//
// Finite differences: the loss L = sum_o sum_e R_o[e] * out_o[e] (fixed
// random R over y, h_n and c_n, so dy, dh_n and dc_n are all exercised) is
// accumulated in double from the float32 outputs. Each element is perturbed
// by +-eps with eps = 5e-3. Error budget, with loss values O(1) and about 50
// output terms: float32 rounding of the outputs (~1e-7 relative) gives
// ~5e-7 of noise in L, i.e. ~5e-5 in a central difference; the truncation
// error eps^2/6 * L''' is ~5e-6 * O(1..10). Both are far below the tolerance
// of 5e-3 relative to the tensor's largest gradient, while any layout, gate
// order or bias mistake shows up as an O(1) relative error.
//
// ReLU has kinks: a perturbation that moves a pre-activation across 0 makes
// the finite difference meaningless. For ReLU cells each element is also
// differenced with eps/2; where the two estimates disagree (impossible for a
// smooth function at this accuracy) the element sits on a kink and is skipped
// (at most a fifth of a tensor may be).
#include "rnnflow/ops/internal/rnn_layer.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/conformance/reference_case.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

// A built node with its buffers.
class Harness {
 public:
  explicit Harness(const RecurrentNodeSpec& spec, unsigned seed = 1) : spec_(spec) {
    auto built = BuildRecurrentNode(spec);
    status_ = built.status();
    if (!built.ok()) return;
    node_ = std::move(built).value();
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uni(-1.f, 1.f);
    const size_t ni = node_.input_shapes.size();
    in_.resize(ni);
    in_grad_.resize(ni);
    for (size_t i = 0; i < ni; ++i) {
      if (!node_.input_present[i]) continue;
      const float scale = i == 0 ? 1.f : 0.5f;  // x in [-1,1], rest in [-.5,.5]
      in_[i].resize(NumElements(node_.input_shapes[i]));
      for (float& v : in_[i]) v = scale * uni(rng);
      in_grad_[i].assign(in_[i].size(), 0.f);
    }
    const size_t no = node_.output_shapes.size();
    out_.resize(no);
    r_.resize(no);
    for (size_t o = 0; o < no; ++o) {
      out_[o].assign(NumElements(node_.output_shapes[o]), 0.f);
      r_[o].resize(out_[o].size());
      for (float& v : r_[o]) v = uni(rng);
    }
  }

  const absl::Status& status() const { return status_; }
  RecurrentNode& node() { return node_; }
  std::vector<std::vector<float>>& inputs() { return in_; }
  std::vector<std::vector<float>>& input_grads() { return in_grad_; }
  std::vector<std::vector<float>>& outputs() { return out_; }
  size_t num_inputs() const { return in_.size(); }

  // Forward; returns the loss sum R * out in double.
  absl::StatusOr<double> Forward() {
    KernelContext ctx = Context();
    RF_RETURN_IF_ERROR(node_.kernel->Forward(ctx));
    double loss = 0;
    for (size_t o = 0; o < out_.size(); ++o) {
      for (size_t e = 0; e < out_[o].size(); ++e) {
        loss += static_cast<double>(r_[o][e]) * out_[o][e];
      }
    }
    return loss;
  }

  // Backward of the loss, adding into input_grads().
  absl::Status Backward() {
    KernelContext ctx = Context();
    for (size_t o = 0; o < out_.size(); ++o) {
      ctx.output_grads.emplace_back(FLOAT32, node_.output_shapes[o], r_[o].data());
    }
    for (size_t i = 0; i < in_.size(); ++i) {
      ctx.input_grads.emplace_back(FLOAT32, node_.input_shapes[i],
                                   node_.input_present[i] ? in_grad_[i].data() : nullptr);
    }
    return node_.kernel->Backward(ctx);
  }

  void ZeroGrads() {
    for (auto& g : in_grad_) std::fill(g.begin(), g.end(), 0.f);
  }

  std::string InputName(size_t i) const {
    if (static_cast<int>(i) < node_.num_declared_inputs) {
      return OpRegistry::Global().Find(spec_.op)->inputs()[i].name;
    }
    return node_.params[i - node_.num_declared_inputs].name;
  }

 private:
  KernelContext Context() {
    KernelContext ctx;
    for (size_t i = 0; i < in_.size(); ++i) {
      ctx.inputs.emplace_back(FLOAT32, node_.input_shapes[i],
                              node_.input_present[i] ? in_[i].data() : nullptr);
    }
    for (size_t o = 0; o < out_.size(); ++o) {
      ctx.outputs.emplace_back(FLOAT32, node_.output_shapes[o], out_[o].data());
    }
    return ctx;
  }

  RecurrentNodeSpec spec_;
  absl::Status status_;
  RecurrentNode node_;
  std::vector<std::vector<float>> in_, in_grad_, out_, r_;
};

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

RecurrentNodeSpec MakeSpec(const CellConfig& cell, int layers, bool bidirectional,
                           bool with_state) {
  RecurrentNodeSpec spec;
  spec.name = "rnn";
  spec.op = cell.op;
  spec.activation = cell.activation;
  spec.linear_before_reset = cell.lbr;
  spec.hidden = 4;
  spec.layers = layers;
  spec.bidirectional = bidirectional;
  spec.T = 3;
  spec.N = 2;
  spec.C = 3;
  spec.with_h0 = with_state;
  spec.with_c0 = with_state && spec.op == "LSTM";
  return spec;
}

using GradParam = std::tuple<int, int, bool>;  // cell index, layers, bidirectional

class RnnGradientTest : public ::testing::TestWithParam<GradParam> {};

TEST_P(RnnGradientTest, MatchesFiniteDifferences) {
  const auto [cell_index, layers, bidirectional] = GetParam();
  const CellConfig& cell = kCells[cell_index];
  const bool relu = std::string(cell.activation) == "relu" && std::string(cell.op) == "RNN";
  Harness h(MakeSpec(cell, layers, bidirectional, /*with_state=*/true), 7 + cell_index);
  ASSERT_TRUE(h.status().ok()) << h.status();

  ASSERT_TRUE(h.Forward().ok());
  ASSERT_TRUE(h.Backward().ok());
  const std::vector<std::vector<float>> analytic = h.input_grads();

  constexpr double kEps = 5e-3;
  constexpr double kTol = 5e-3;
  auto central = [&h](std::vector<float>& buf, size_t e, double eps) {
    const float saved = buf[e];
    buf[e] = static_cast<float>(saved + eps);
    const double up = *h.Forward();
    buf[e] = static_cast<float>(saved - eps);
    const double down = *h.Forward();
    buf[e] = saved;
    // The float32 step actually taken.
    const double step = static_cast<double>(static_cast<float>(saved + eps)) -
                        static_cast<double>(static_cast<float>(saved - eps));
    return (up - down) / step;
  };

  int checked_tensors = 0;
  for (size_t i = 0; i < h.num_inputs(); ++i) {
    if (!h.node().input_present[i]) continue;
    std::vector<float>& buf = h.inputs()[i];
    const std::vector<float>& g = analytic[i];
    double scale = 0;
    for (float v : g) scale = std::max(scale, std::fabs(static_cast<double>(v)));
    if (scale == 0) scale = 1;  // then FD must be ~0 too
    double worst = 0;
    size_t worst_index = 0, skipped = 0;
    for (size_t e = 0; e < buf.size(); ++e) {
      const double fd = central(buf, e, kEps);
      if (relu) {
        const double fd_half = central(buf, e, kEps / 2);
        if (std::fabs(fd - fd_half) > 0.5 * kTol * scale) {
          ++skipped;
          continue;
        }
      }
      const double err = std::fabs(fd - g[e]) / scale;
      if (err > worst) {
        worst = err;
        worst_index = e;
      }
    }
    EXPECT_LE(worst, kTol) << "gradient of '" << h.InputName(i) << "' element " << worst_index
                           << ": analytic " << g[worst_index] << " (max |grad| " << scale << ")";
    EXPECT_LE(skipped, std::max<size_t>(1, buf.size() / 5))
        << "too many ReLU kinks in '" << h.InputName(i) << "'";
    ++checked_tensors;
  }
  // x, h0, [c0] and 3 parameters per layer and direction.
  const int d = bidirectional ? 2 : 1;
  EXPECT_EQ(checked_tensors, (std::string(cell.op) == "LSTM" ? 3 : 2) + 3 * layers * d);
}

std::string GradName(const ::testing::TestParamInfo<GradParam>& info) {
  const auto [cell_index, layers, bidirectional] = info.param;
  return std::string(kCells[cell_index].label) + "_L" + std::to_string(layers) +
         (bidirectional ? "_Bidir" : "_Forward");
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnGradientTest,
                         ::testing::Combine(::testing::Range(0, 5), ::testing::Values(1, 2),
                                            ::testing::Bool()),
                         GradName);

// Repeated calls give identical results: nothing accumulates inside the
// kernel, and Backward adds (not overwrites) into the caller's gradients.
TEST(RnnLayerTest, RepeatedCallsAreIdenticalAndBackwardAdds) {
  for (const CellConfig& cell : kCells) {
    SCOPED_TRACE(cell.label);
    Harness h(MakeSpec(cell, 2, true, true), 3);
    ASSERT_TRUE(h.status().ok()) << h.status();
    const absl::StatusOr<double> loss1 = h.Forward();
    ASSERT_TRUE(loss1.ok());
    const auto out1 = h.outputs();
    ASSERT_TRUE(h.Backward().ok());
    const auto grads1 = h.input_grads();

    for (int rep = 0; rep < 2; ++rep) {
      h.ZeroGrads();
      const absl::StatusOr<double> loss2 = h.Forward();
      ASSERT_TRUE(loss2.ok());
      EXPECT_EQ(*loss1, *loss2);
      EXPECT_EQ(out1, h.outputs());
      ASSERT_TRUE(h.Backward().ok());
      EXPECT_EQ(grads1, h.input_grads());
    }
    // Without zeroing, a second backward adds the same gradient again.
    ASSERT_TRUE(h.Backward().ok());
    for (size_t i = 0; i < grads1.size(); ++i) {
      for (size_t e = 0; e < grads1[i].size(); ++e) {
        EXPECT_NEAR(h.input_grads()[i][e], 2 * grads1[i][e], 1e-6 * (1 + std::fabs(grads1[i][e])))
            << h.InputName(i) << "[" << e << "]";
      }
    }
  }
}

// An absent h0/c0 means zeros; absent output gradients mean zeros; unwanted
// input gradients are skipped.
TEST(RnnLayerTest, AbsentStateIsZeroAndInvalidGradientsAreSkipped) {
  for (const CellConfig& cell : kCells) {
    SCOPED_TRACE(cell.label);
    Harness with(MakeSpec(cell, 2, true, true), 5);
    Harness without(MakeSpec(cell, 2, true, false), 5);
    ASSERT_TRUE(with.status().ok()) << with.status();
    ASSERT_TRUE(without.status().ok()) << without.status();
    const int declared = with.node().num_declared_inputs;
    for (size_t i = 0; i < with.num_inputs(); ++i) {
      if (i >= 1 && static_cast<int>(i) < declared) {
        std::fill(with.inputs()[i].begin(), with.inputs()[i].end(), 0.f);
      } else {
        without.inputs()[i] = with.inputs()[i];
      }
    }
    ASSERT_TRUE(with.Forward().ok());
    ASSERT_TRUE(without.Forward().ok());
    EXPECT_EQ(with.outputs(), without.outputs());

    // Only y gets a gradient; only x's gradient is wanted.
    RecurrentNode& node = without.node();
    KernelContext ctx;
    std::vector<float> dy(without.outputs()[0].size(), 1.f);
    std::vector<float> dx(without.inputs()[0].size(), 0.f);
    for (size_t i = 0; i < without.num_inputs(); ++i) {
      ctx.inputs.emplace_back(FLOAT32, node.input_shapes[i],
                              node.input_present[i] ? without.inputs()[i].data() : nullptr);
      ctx.input_grads.emplace_back(FLOAT32, node.input_shapes[i], i == 0 ? dx.data() : nullptr);
    }
    for (size_t o = 0; o < without.outputs().size(); ++o) {
      ctx.outputs.emplace_back(FLOAT32, node.output_shapes[o], without.outputs()[o].data());
      ctx.output_grads.emplace_back(FLOAT32, node.output_shapes[o], o == 0 ? dy.data() : nullptr);
    }
    ASSERT_TRUE(node.kernel->Backward(ctx).ok());
    double norm = 0;
    for (float v : dx) norm += std::fabs(v);
    EXPECT_GT(norm, 0);
  }
}

TEST(RnnSchemaTest, DeclaresParamsInOrderWithShapes) {
  RecurrentNodeSpec spec = MakeSpec(kCells[3], 2, true, true);  // lbr GRU
  spec.C = 5;
  spec.hidden = 6;
  auto node = BuildRecurrentNode(spec);
  ASSERT_TRUE(node.ok()) << node.status();
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  for (const ParamSlot& p : node->params) {
    names.push_back(p.name);
    shapes.push_back(p.shape);
    EXPECT_EQ(p.init.kind(), "uniform");
    EXPECT_FLOAT_EQ(p.init.scale(), 1.f / std::sqrt(6.f));
  }
  EXPECT_THAT(names,
              ::testing::ElementsAre("l0/w_x", "l0/w_h", "l0/b", "l0_reverse/w_x", "l0_reverse/w_h",
                                     "l0_reverse/b", "l1/w_x", "l1/w_h", "l1/b", "l1_reverse/w_x",
                                     "l1_reverse/w_h", "l1_reverse/b"));
  EXPECT_EQ(shapes[0], (Shape{5, 18}));
  EXPECT_EQ(shapes[1], (Shape{6, 18}));
  EXPECT_EQ(shapes[2], (Shape{4, 6}));    // lbr: 4 bias rows
  EXPECT_EQ(shapes[6], (Shape{12, 18}));  // layer 1 reads both directions
  EXPECT_EQ(node->output_shapes[0], (Shape{3, 2, 12}));
  EXPECT_EQ(node->output_shapes[1], (Shape{4, 2, 6}));

  spec.linear_before_reset = false;
  node = BuildRecurrentNode(spec);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->params[2].shape, (Shape{3, 6}));

  const OpSchema* lstm = OpRegistry::Global().Find("LSTM");
  ASSERT_NE(lstm, nullptr);
  ASSERT_EQ(lstm->carried_states().size(), 2u);
  EXPECT_EQ(lstm->carried_states()[1], std::make_pair(std::string("c0"), std::string("c_n")));
}

TEST(RnnSchemaTest, ClearErrors) {
  const OpSchema* schema = OpRegistry::Global().Find("LSTM");
  ASSERT_NE(schema, nullptr);
  NodeDef node;
  node.set_name("enc");
  node.set_op("LSTM");
  (*node.mutable_attr())["hidden"] = IntAttr(8);
  (*node.mutable_attr())["layers"] = IntAttr(1);
  (*node.mutable_attr())["direction"] = StringAttr("forward");
  const SymShape rank2 = {Dim::Known(32), Dim::Known(128)};
  {
    ShapeContext ctx(*schema, node, {&rank2, nullptr, nullptr}, {FLOAT32, FLOAT32, FLOAT32});
    const absl::Status s = schema->shape_fn()(ctx);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("input 'x' must have rank 3 [T,N,C]; got [N=32,C=128]"));
  }
  const SymShape x = {Dim::Symbol("T"), Dim::Symbol("N"), Dim::Known(16)};
  const SymShape bad_h0 = {Dim::Known(2), Dim::Symbol("N"), Dim::Known(8)};
  {
    ShapeContext ctx(*schema, node, {&x, &bad_h0, nullptr}, {FLOAT32, FLOAT32, FLOAT32});
    const absl::Status s = schema->shape_fn()(ctx);
    EXPECT_THAT(std::string(s.message()), HasSubstr("input 'h0' must have shape [L*D,N,H]"));
  }
  (*node.mutable_attr())["hidden"] = IntAttr(0);
  {
    ShapeContext ctx(*schema, node, {&x, nullptr, nullptr}, {FLOAT32, FLOAT32, FLOAT32});
    const absl::Status s = schema->shape_fn()(ctx);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("attribute 'hidden' must be in [1, 65536]; got 0"));
  }
  RecurrentNodeSpec spec = MakeSpec(kCells[0], 0, false, false);
  auto built = BuildRecurrentNode(spec);
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(std::string(built.status().message()),
              HasSubstr("node 'rnn' (RNN): attribute 'layers' must be in [1, 64]; got 0"));
}

}  // namespace
}  // namespace rnnflow
