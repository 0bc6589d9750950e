// MeanOverTime / MaxOverTime (graph/op_defs_pooling.cc, ops/pooling_kernels.cc):
// values over each sequence's own steps, finite-difference gradients with and
// without lengths, and the errors (bad lengths, shapes, step mode).
#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/runtime/kernel.h"
#include "tests/testing/gradient_check.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 3e-3;

// Distinct values 0.01 apart (shuffled), so no two steps tie within the
// finite-difference step and the maximum's position is stable.
void Distinct(const Tensor& t, std::mt19937_64& rng) {
  std::vector<int> order(t.num_elements());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.f32()[i] = 0.01f * order[i] - 0.5f;
}

InputSpec Lengths(int64_t n, int32_t t) { return InputSpec::Int({n}, 1, t); }

struct Pool {
  NodeDef node;
  std::unique_ptr<OpKernel> kernel;
  absl::Status status;
};

Pool Create(const std::string& op, Shape x, bool lengths, bool step_mode = false) {
  Pool p;
  KernelInit init;
  init.node_name = "pool";
  init.op = op;
  init.attrs = &p.node.attr();
  Shape y = x;
  y[0] = 1;
  init.input_shapes = {x, lengths ? Shape{x[1]} : Shape{}};
  init.input_dtypes = {FLOAT32, INT32};
  init.input_present = {true, lengths};
  init.output_shapes = {y};
  init.output_dtypes = {FLOAT32};
  init.step_mode = step_mode;
  auto k = KernelRegistry::Global().Create(init);
  p.status = k.status();
  if (k.ok()) p.kernel = *std::move(k);
  return p;
}

TEST(PoolingTest, PoolsEachSequenceOverItsOwnSteps) {
  const int64_t T = 4, N = 3, C = 2;
  std::vector<float> x(T * N * C);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 11) - 5.f;
  std::vector<int32_t> len = {4, 1, 2};
  for (const char* op : {"MeanOverTime", "MaxOverTime"}) {
    const bool max = std::string(op) == "MaxOverTime";
    Pool p = Create(op, {T, N, C}, true);
    ASSERT_TRUE(p.status.ok()) << p.status;
    std::vector<float> y(N * C, -99.f);
    KernelContext ctx;
    ctx.inputs = {Tensor(FLOAT32, {T, N, C}, x.data()), Tensor(INT32, {N}, len.data())};
    ctx.outputs = {Tensor(FLOAT32, {1, N, C}, y.data())};
    ASSERT_TRUE(p.kernel->Forward(ctx).ok());
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t c = 0; c < C; ++c) {
        float want = max ? -1e30f : 0.f;
        for (int64_t t = 0; t < len[n]; ++t) {
          const float v = x[(t * N + n) * C + c];
          want = max ? std::max(want, v) : want + v / len[n];
        }
        EXPECT_FLOAT_EQ(y[n * C + c], want) << op << " n=" << n << " c=" << c;
      }
    }
    // Lengths outside [1, T] are errors naming the node and the column.
    len[1] = 0;
    EXPECT_EQ(p.kernel->Forward(ctx).message(),
              absl::StrCat("node 'pool' (", op,
                           "): input 'lengths' column 1 is 0; every length must be in [1, T=4]"));
    len[1] = 1;
  }
}

TEST(PoolingTest, Gradients) {
  GradientCheckOptions o;
  for (const char* op : {"MeanOverTime", "MaxOverTime"}) {
    InputSpec x = InputSpec::Float({5, 4, 3});
    x.fill = Distinct;
    EXPECT_TRUE(GradientsMatch(CheckGradients(op, NodeDef(), {x}, o), kTol)) << op;
    auto r = CheckGradients(op, NodeDef(), {x, Lengths(4, 5)}, o);
    EXPECT_TRUE(GradientsMatch(r, kTol)) << op;
    InputSpec flat = InputSpec::Float({6, 2});  // [T, N]: no feature axes
    flat.fill = Distinct;
    EXPECT_TRUE(GradientsMatch(CheckGradients(op, NodeDef(), {flat, Lengths(2, 6)}, o), kTol))
        << op;
  }
}

TEST(PoolingTest, PaddingGetsNoGradient) {
  const int64_t T = 3, N = 2, C = 1;
  std::vector<float> x = {1, 5, 3, 2, 2, 9}, y(2), dy = {1, 1}, dx(6, 0.f);
  std::vector<int32_t> len = {3, 1};
  for (const char* op : {"MeanOverTime", "MaxOverTime"}) {
    Pool p = Create(op, {T, N, C}, true);
    ASSERT_TRUE(p.status.ok());
    std::fill(dx.begin(), dx.end(), 0.f);
    KernelContext ctx;
    ctx.inputs = {Tensor(FLOAT32, {T, N, C}, x.data()), Tensor(INT32, {N}, len.data())};
    ctx.outputs = {Tensor(FLOAT32, {1, N, C}, y.data())};
    ctx.output_grads = {Tensor(FLOAT32, {1, N, C}, dy.data())};
    ctx.input_grads = {Tensor(FLOAT32, {T, N, C}, dx.data()), Tensor()};
    ASSERT_TRUE(p.kernel->Forward(ctx).ok());
    ASSERT_TRUE(p.kernel->Backward(ctx).ok());
    // Column 1 has one step (x = 5): its padding (2, 9) gets nothing, though
    // 9 is larger.
    EXPECT_EQ(y[1], 5.f) << op;
    EXPECT_EQ(dx[1], 1.f) << op;
    EXPECT_EQ(dx[3], 0.f) << op;
    EXPECT_EQ(dx[5], 0.f) << op;
  }
}

TEST(PoolingTest, ShapesAndErrors) {
  const SymShape x = {Dim::Symbol("T"), Dim::Symbol("N"), Dim::Known(8)};
  const SymShape len = {Dim::Symbol("N")};
  auto r = RunShapeFn("MeanOverTime", NodeDef(), {x, len}, {FLOAT32, INT32});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ShapeToString(r->output_shapes[0]), "[1,N,8]");
  const SymShape other = {Dim::Symbol("M")};
  r = RunShapeFn("MaxOverTime", NodeDef(), {x, other}, {FLOAT32, INT32});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "input 'lengths' must have shape [N], the second axis of input 'x' [T,N,8]; got [M]");
  r = RunShapeFn("MaxOverTime", NodeDef(), {x, len}, {FLOAT32, FLOAT32});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("input 'lengths'"));
  r = RunShapeFn("MeanOverTime", NodeDef(), {SymShape{Dim::Symbol("T")}}, {FLOAT32});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("input 'x'"));
  Pool p = Create("MeanOverTime", {3, 2}, false, /*step_mode=*/true);
  EXPECT_EQ(p.status.message(),
            "node 'pool' (MeanOverTime): cannot run inside a recurrence (it needs the whole "
            "sequence)");
}

}  // namespace
}  // namespace rnnflow
