// Finite-difference gradient checks of every basic op (graph/op_defs_basic.cc,
// kernels in ops/), in batched and step mode, plus forward values and runtime
// errors of the kernels.
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/runtime/kernel.h"
#include "tests/testing/gradient_check.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

// Observed f32 noise is below 1e-3; a 1% error in a gradient fails.
constexpr double kTol = 3e-3;

GradientCheckOptions StepMode(int64_t steps = 3) {
  GradientCheckOptions o;
  o.step_mode = true;
  o.num_steps = steps;
  return o;
}

InputSpec Shared(InputSpec spec) {
  spec.per_step = false;
  return spec;
}

// Values with |v| in [0.1, 1], so that a kink at 0 is never within eps.
void AwayFromZero(const Tensor& t, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> mag(0.1f, 1.f);
  std::bernoulli_distribution sign(0.5);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    t.f32()[i] = sign(rng) ? mag(rng) : -mag(rng);
  }
}

TEST(OpsGradientTest, Dense) {
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Dense", MakeNode({{"units", IntAttr(5)}}), {InputSpec::Float({4, 3})}),
      kTol));
  auto r =
      CheckGradients("Dense", MakeNode({{"units", IntAttr(2)}}), {InputSpec::Float({2, 3, 4})});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output_shapes[0], (Shape{2, 3, 2}));
  ASSERT_EQ(r->inputs.size(), 3u);
  EXPECT_EQ(r->inputs[1].name, "kernel");
  EXPECT_EQ(r->inputs[2].name, "bias");
  EXPECT_TRUE(r->inputs[2].checked);
}

TEST(OpsGradientTest, DenseWithoutBias) {
  auto r = CheckGradients("Dense", MakeNode({{"units", IntAttr(3)}, {"use_bias", BoolAttr(false)}}),
                          {InputSpec::Float({5, 4})});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inputs.size(), 2u);
}

TEST(OpsGradientTest, DenseStepMode) {
  EXPECT_TRUE(GradientsMatch(CheckGradients("Dense", MakeNode({{"units", IntAttr(3)}}),
                                            {InputSpec::Float({2, 4})}, StepMode()),
                             kTol));
}

TEST(OpsGradientTest, MatMul) {
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("MatMul", NodeDef(), {InputSpec::Float({2, 3, 4}), InputSpec::Float({4, 5})}),
      kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("MatMul", NodeDef(),
                     {InputSpec::Float({3, 4}), Shared(InputSpec::Float({4, 2}))}, StepMode()),
      kTol));
}

TEST(OpsGradientTest, AddAndMulSameShape) {
  for (const char* op : {"Add", "Sub", "Mul"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3, 4}), InputSpec::Float({2, 3, 4})}),
        kTol));
  }
}

TEST(OpsGradientTest, AddAndMulBroadcast) {
  for (const char* op : {"Add", "Sub", "Mul"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3, 4}), InputSpec::Float({4})}), kTol));
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3, 4}), InputSpec::Float({3, 4})}),
        kTol));
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({5, 2}), InputSpec::Float({})}), kTol));
    // A wide b takes the parallel reduction path.
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 300}), InputSpec::Float({300})},
                       [] {
                         GradientCheckOptions o;
                         o.max_elements_per_input = 40;
                         return o;
                       }()),
        kTol));
  }
}

TEST(OpsGradientTest, AddAndMulStepMode) {
  for (const char* op : {"Add", "Sub", "Mul"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3}), InputSpec::Float({2, 3})},
                       StepMode()),
        kTol));
    // A bias shared by all steps accumulates its gradient over them.
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3}), Shared(InputSpec::Float({3}))},
                       StepMode(4)),
        kTol));
  }
}

TEST(OpsGradientTest, UnaryActivations) {
  for (const char* op : {"Tanh", "Sigmoid"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 3, 4}, -3.f, 3.f)}), kTol));
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(), {InputSpec::Float({2, 5}, -3.f, 3.f)}, StepMode()), kTol));
  }
  InputSpec x = InputSpec::Float({3, 7});
  x.fill = AwayFromZero;
  EXPECT_TRUE(GradientsMatch(CheckGradients("Relu", NodeDef(), {x}), kTol));
  x.shape = {4};
  EXPECT_TRUE(GradientsMatch(CheckGradients("Relu", NodeDef(), {x}, StepMode()), kTol));
}

TEST(OpsGradientTest, Softmax) {
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Softmax", NodeDef(), {InputSpec::Float({2, 3, 5}, -2.f, 2.f)}), kTol));
  EXPECT_TRUE(GradientsMatch(CheckGradients("Softmax", NodeDef(), {InputSpec::Float({6})}), kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Softmax", NodeDef(), {InputSpec::Float({2, 4})}, StepMode()), kTol));
}

TEST(OpsGradientTest, ReverseTime) {
  auto r = CheckGradients("ReverseTime", NodeDef(), {InputSpec::Float({4, 2, 3})});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output_shapes[0], (Shape{4, 2, 3}));
}

TEST(OpsGradientTest, ReverseTimeWithLengths) {
  InputSpec lengths;
  lengths.shape = {3};
  lengths.dtype = INT32;
  lengths.fill = [](const Tensor& t, std::mt19937_64&) {
    t.i32()[0] = 4;
    t.i32()[1] = 1;
    t.i32()[2] = 2;
  };
  auto r = CheckGradients("ReverseTime", NodeDef(), {InputSpec::Float({4, 3, 2}), lengths});
  EXPECT_TRUE(GradientsMatch(r, kTol));

  // Values: each column reversed within its length, zero after; bad lengths
  // are errors naming the column.
  NodeDef node;
  KernelInit init;
  init.node_name = "rev";
  init.op = "ReverseTime";
  init.attrs = &node.attr();
  init.input_shapes = {{4, 3, 2}, {3}};
  init.input_dtypes = {FLOAT32, INT32};
  init.input_present = {true, true};
  init.output_shapes = {{4, 3, 2}};
  init.output_dtypes = {FLOAT32};
  auto kernel = KernelRegistry::Global().Create(init);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  std::vector<float> x(24), y(24, -1.f);
  for (int i = 0; i < 24; ++i) x[i] = static_cast<float>(i);
  std::vector<int32_t> len = {4, 1, 2};
  KernelContext ctx;
  ctx.inputs = {Tensor(FLOAT32, {4, 3, 2}, x.data()), Tensor(INT32, {3}, len.data())};
  ctx.outputs = {Tensor(FLOAT32, {4, 3, 2}, y.data())};
  ASSERT_TRUE((*kernel)->Forward(ctx).ok());
  for (int t = 0; t < 4; ++t) {
    for (int n = 0; n < 3; ++n) {
      for (int k = 0; k < 2; ++k) {
        const float want = t < len[n] ? x[((len[n] - 1 - t) * 3 + n) * 2 + k] : 0.f;
        EXPECT_EQ(y[(t * 3 + n) * 2 + k], want) << t << " " << n << " " << k;
      }
    }
  }
  len[2] = 5;
  EXPECT_EQ((*kernel)->Forward(ctx).message(),
            "node 'rev' (ReverseTime): input 'lengths' column 2 is 5; every length must be in "
            "[1, T=4]");
}

TEST(OpsGradientTest, Concat) {
  EXPECT_TRUE(GradientsMatch(CheckGradients("Concat", NodeDef(),
                                            {InputSpec::Float({2, 3}), InputSpec::Float({2, 1}),
                                             InputSpec::Float({2, 4})}),
                             kTol));
  auto r = CheckGradients("Concat", MakeNode({{"axis", IntAttr(0)}}),
                          {InputSpec::Float({1, 3}), InputSpec::Float({2, 3})});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output_shapes[0], (Shape{3, 3}));
  EXPECT_EQ(r->inputs[1].name, "values[1]");
  EXPECT_TRUE(
      GradientsMatch(CheckGradients("Concat", MakeNode({{"axis", IntAttr(1)}}),
                                    {InputSpec::Float({2, 2, 3}), InputSpec::Float({2, 1, 3})}),
                     kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Concat", NodeDef(), {InputSpec::Float({2, 3}), InputSpec::Float({2, 2})},
                     StepMode()),
      kTol));
}

TEST(OpsGradientTest, Slice) {
  auto r = CheckGradients("Slice", MakeNode({{"begin", IntAttr(1)}, {"size", IntAttr(3)}}),
                          {InputSpec::Float({2, 5})});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output_shapes[0], (Shape{2, 3}));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Slice",
                     MakeNode({{"axis", IntAttr(0)}, {"begin", IntAttr(2)}, {"size", IntAttr(-1)}}),
                     {InputSpec::Float({4, 3})}),
      kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Slice",
                     MakeNode({{"axis", IntAttr(1)}, {"begin", IntAttr(0)}, {"size", IntAttr(2)}}),
                     {InputSpec::Float({2, 3, 2})}),
      kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Slice", MakeNode({{"begin", IntAttr(2)}, {"size", IntAttr(2)}}),
                     {InputSpec::Float({3, 6})}, StepMode()),
      kTol));
}

TEST(OpsGradientTest, Embedding) {
  auto r = CheckGradients("Embedding", MakeNode({{"vocab", IntAttr(10)}, {"dim", IntAttr(4)}}),
                          {InputSpec::Int({2, 3}, 0, 9)});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->inputs[0].checked);  // ids
  EXPECT_TRUE(r->inputs[1].checked);   // table
  EXPECT_EQ(r->output_shapes[0], (Shape{2, 3, 4}));
  // Many repeated ids: their gradients must add up.
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Embedding", MakeNode({{"vocab", IntAttr(3)}, {"dim", IntAttr(5)}}),
                     {InputSpec::Int({4, 6}, 0, 2)}),
      kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("Embedding", MakeNode({{"vocab", IntAttr(4)}, {"dim", IntAttr(3)}}),
                     {InputSpec::Int({2}, 0, 3)}, StepMode()),
      kTol));
}

TEST(OpsGradientTest, SoftmaxCrossEntropy) {
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("SoftmaxCrossEntropy", NodeDef(),
                     {InputSpec::Float({2, 3, 5}, -3.f, 3.f), InputSpec::Int({2, 3}, 0, 4)}),
      kTol));
  // Large logits must not overflow (log-sum-exp).
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("SoftmaxCrossEntropy", NodeDef(),
                     {InputSpec::Float({4, 3}, 40.f, 60.f), InputSpec::Int({4}, 0, 2)}),
      kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("SoftmaxCrossEntropy", NodeDef(),
                     {InputSpec::Float({2, 4}), InputSpec::Int({2}, 0, 3)}, StepMode()),
      kTol));
}

TEST(OpsGradientTest, SoftmaxCrossEntropyIgnoreLabel) {
  // Default ignore_label -1: labels drawn from [-1, 3].
  auto r = CheckGradients("SoftmaxCrossEntropy", NodeDef(),
                          {InputSpec::Float({3, 4, 4}), InputSpec::Int({3, 4}, -1, 3)});
  EXPECT_TRUE(GradientsMatch(r, kTol));
  // A real class as ignore_label.
  EXPECT_TRUE(
      GradientsMatch(CheckGradients("SoftmaxCrossEntropy", MakeNode({{"ignore_label", IntAttr(2)}}),
                                    {InputSpec::Float({6, 3}), InputSpec::Int({6}, 0, 2)}),
                     kTol));
  // Everything ignored: zero loss and zero gradient.
  InputSpec labels = InputSpec::Int({2, 2}, -1, -1);
  auto all =
      CheckGradients("SoftmaxCrossEntropy", NodeDef(), {InputSpec::Float({2, 2, 3}), labels});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->loss, 0.0);
  EXPECT_EQ(all->inputs[0].max_grad, 0.0);
}

TEST(OpsGradientTest, SigmoidCrossEntropyAndMse) {
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("SigmoidCrossEntropy", NodeDef(),
                     {InputSpec::Float({3, 4}, -5.f, 5.f), InputSpec::Float({3, 4}, 0.f, 1.f)}),
      kTol));
  EXPECT_TRUE(
      GradientsMatch(CheckGradients("MeanSquaredError", NodeDef(),
                                    {InputSpec::Float({2, 3, 4}), InputSpec::Float({2, 3, 4})}),
                     kTol));
  EXPECT_TRUE(GradientsMatch(
      CheckGradients("MeanSquaredError", NodeDef(),
                     {InputSpec::Float({2, 3}), InputSpec::Float({2, 3})}, StepMode()),
      kTol));
}

// Weighted (masked) pointwise losses: 0/1 weights (a padding mask) and
// general non-negative weights; masked elements get no gradient.
TEST(OpsGradientTest, WeightedSigmoidCrossEntropyAndMse) {
  InputSpec mask = InputSpec::Float({3, 4});
  mask.fill = [](const Tensor& t, std::mt19937_64&) {
    for (int64_t i = 0; i < t.num_elements(); ++i) t.f32()[i] = i % 3 == 1 ? 0.f : 1.f;
  };
  for (const char* op : {"SigmoidCrossEntropy", "MeanSquaredError"}) {
    SCOPED_TRACE(op);
    auto masked = CheckGradients(
        op, NodeDef(),
        {InputSpec::Float({3, 4}, -3.f, 3.f), InputSpec::Float({3, 4}, 0.f, 1.f), mask});
    EXPECT_TRUE(GradientsMatch(masked, kTol));
    EXPECT_TRUE(GradientsMatch(
        CheckGradients(op, NodeDef(),
                       {InputSpec::Float({2, 5}, -3.f, 3.f), InputSpec::Float({2, 5}, 0.f, 1.f),
                        InputSpec::Float({2, 5}, 0.f, 2.f)}),
        kTol));
  }
}

TEST(OpsGradientTest, InvalidOutputGradientMeansZero) {
  GradientCheckOptions o;
  o.invalid_output_grads = {0};
  auto r = CheckGradients("Tanh", NodeDef(), {InputSpec::Float({3})}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inputs[0].max_grad, 0.0);
}

// --- Forward values and runtime errors ---------------------------------------

// Creates `op`'s kernel for the given inputs (declared + params) via the
// shape fn, and owns buffers for one call.
struct Runner {
  ShapeFnResult shapes;
  std::unique_ptr<OpKernel> kernel;
  KernelInit init;

  absl::Status Create(const std::string& op, const NodeDef& node, std::vector<Shape> in,
                      std::vector<DataType> dtypes) {
    std::vector<SymShape> sym;
    for (const Shape& s : in) sym.push_back(KnownShape(s));
    auto r = RunShapeFn(op, node, sym, dtypes);
    if (!r.ok()) return r.status();
    shapes = *r;
    init.node_name = shapes.node.name();
    init.op = op;
    init.attrs = &shapes.node.attr();
    init.input_shapes = in;
    init.input_dtypes = dtypes;
    for (const ParamSlot& p : shapes.params) {
      init.input_shapes.push_back(p.shape);
      init.input_dtypes.push_back(FLOAT32);
    }
    init.input_present.assign(init.input_shapes.size(), true);
    for (size_t k = 0; k < shapes.output_shapes.size(); ++k) {
      init.output_shapes.push_back(*Bind(shapes.output_shapes[k], {}));
      init.output_dtypes.push_back(shapes.output_dtypes[k]);
    }
    auto k = KernelRegistry::Global().Create(init);
    if (!k.ok()) return k.status();
    kernel = std::move(*k);
    return absl::OkStatus();
  }
};

TEST(OpsKernelTest, EmbeddingOutOfRangeIdNamesNodeIdAndPosition) {
  NodeDef node = MakeNode({{"vocab", IntAttr(5)}, {"dim", IntAttr(2)}});
  node.set_name("emb");
  Runner run;
  ASSERT_TRUE(run.Create("Embedding", node, {{2, 2}}, {INT32}).ok());
  std::vector<int32_t> ids = {0, 4, 7, 1};
  std::vector<float> table(10, 0.f), y(8);
  KernelContext ctx;
  ctx.inputs = {Tensor(INT32, {2, 2}, ids.data()), Tensor(FLOAT32, {5, 2}, table.data())};
  ctx.outputs = {Tensor(FLOAT32, {2, 2, 2}, y.data())};
  absl::Status s = run.kernel->Forward(ctx);
  EXPECT_EQ(s.message(),
            "node 'emb' (Embedding): id 7 at position [1,0] of input 'ids' [2,2] is out "
            "of range [0, 5)");
  ids[2] = -1;
  EXPECT_THAT(std::string(run.kernel->Forward(ctx).message()),
              HasSubstr("id -1 at position [1,0]"));
  ids[2] = 3;
  table[3 * 2 + 1] = 7.f;
  ASSERT_TRUE(run.kernel->Forward(ctx).ok());
  EXPECT_EQ(y[4 + 1], 7.f);
}

TEST(OpsKernelTest, SoftmaxCrossEntropyValueAndBadLabel) {
  NodeDef node;
  node.set_name("xent");
  Runner run;
  ASSERT_TRUE(run.Create("SoftmaxCrossEntropy", node, {{2, 3}, {2}}, {FLOAT32, INT32}).ok());
  std::vector<float> logits = {1.f, 2.f, 3.f, 1000.f, 0.f, -1000.f};
  std::vector<int32_t> labels = {2, 0};
  float loss = 0;
  KernelContext ctx;
  ctx.inputs = {Tensor(FLOAT32, {2, 3}, logits.data()), Tensor(INT32, {2}, labels.data())};
  ctx.outputs = {Tensor(FLOAT32, {}, &loss)};
  ASSERT_TRUE(run.kernel->Forward(ctx).ok());
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(loss, row0 / 2, 1e-6);  // row 1 contributes ~0, stably
  labels[1] = 3;
  EXPECT_EQ(run.kernel->Forward(ctx).message(),
            "node 'xent' (SoftmaxCrossEntropy): label 3 at position [1] of input 'labels' "
            "[2] is out of range [0, 3)");
}

// A 0/1-weighted MSE is the mean over the unmasked elements; all-zero
// weights give 0; a negative weight names the node and the position.
TEST(OpsKernelTest, WeightedMseIsMaskedMeanAndRejectsNegativeWeights) {
  NodeDef node;
  node.set_name("mse");
  Runner run;
  ASSERT_TRUE(
      run.Create("MeanSquaredError", node, {{4}, {4}, {4}}, {FLOAT32, FLOAT32, FLOAT32}).ok());
  std::vector<float> x = {1.f, 2.f, 3.f, 100.f}, t = {0.f, 0.f, 0.f, 0.f};
  std::vector<float> w = {1.f, 1.f, 1.f, 0.f};
  float loss = -1;
  KernelContext ctx;
  ctx.inputs = {Tensor(FLOAT32, {4}, x.data()), Tensor(FLOAT32, {4}, t.data()),
                Tensor(FLOAT32, {4}, w.data())};
  ctx.outputs = {Tensor(FLOAT32, {}, &loss)};
  ASSERT_TRUE(run.kernel->Forward(ctx).ok());
  EXPECT_FLOAT_EQ(loss, (1.f + 4.f + 9.f) / 3.f);
  w = {0.f, 0.f, 0.f, 0.f};
  ASSERT_TRUE(run.kernel->Forward(ctx).ok());
  EXPECT_EQ(loss, 0.f);
  w[2] = -1.f;
  EXPECT_EQ(run.kernel->Forward(ctx).message(),
            "node 'mse' (MeanSquaredError): weight -1 at position [2] of input 'weights' is "
            "negative or not a number");
}

TEST(OpsKernelTest, DenseMatchesNaiveOnLargeShape) {
  const int64_t rows = 512, c = 256, units = 65;
  Runner run;
  ASSERT_TRUE(
      run.Create("Dense", MakeNode({{"units", IntAttr(units)}}), {{8, 64, c}}, {FLOAT32}).ok());
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(rows * c), w(c * units), b(units), y(rows * units);
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng);
  for (float& v : b) v = u(rng);
  KernelContext ctx;
  ctx.inputs = {Tensor(FLOAT32, {8, 64, c}, x.data()), Tensor(FLOAT32, {c, units}, w.data()),
                Tensor(FLOAT32, {units}, b.data())};
  ctx.outputs = {Tensor(FLOAT32, {8, 64, units}, y.data())};
  ASSERT_TRUE(run.kernel->Forward(ctx).ok());
  double max_err = 0;
  for (int64_t r = 0; r < rows; r += 7) {
    for (int64_t j = 0; j < units; ++j) {
      double ref = b[j];
      for (int64_t k = 0; k < c; ++k) ref += static_cast<double>(x[r * c + k]) * w[k * units + j];
      max_err = std::max(max_err, std::fabs(ref - y[r * units + j]));
    }
  }
  EXPECT_LT(max_err, 1e-3);
}

}  // namespace
}  // namespace rnnflow
