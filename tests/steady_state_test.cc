// Steady-state training steps allocate no buffers: every tensor, gradient,
// workspace and optimizer state comes from the static memory plan or was
// made when the kernels were created. Counted by replacing the global
// operator new in this test binary. oneDNN 2.6's dnnl_primitive_execute
// itself builds a small argument map on every call (inside the library, not
// avoidable through its API), so the test allows small, constant-count
// allocations and fails on anything buffer-sized or growing.
#include <atomic>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/optimizer.h"

namespace {
std::atomic<int64_t> g_allocations{0};
std::atomic<size_t> g_largest{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  size_t largest = g_largest.load(std::memory_order_relaxed);
  while (n > largest && !g_largest.compare_exchange_weak(largest, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace rnnflow {
namespace {

// A fused stack, a custom recurrence and the usual ops around them.
constexpr char kModel[] = R"(
format_version: 1
name: "mixed"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] }
input { name: "targets" dtype: INT32 dim: ["T", "N"] }
state { name: "h" dim: ["N", "16"] update: "h_t" }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 50 } } attr { key: "dim" value { i: 16 } } }
node { name: "gru" op: "GRU" input: "embed" attr { key: "hidden" value { i: 16 } }
       attr { key: "direction" value { s: "bidirectional" } } }
node { name: "proj" op: "Dense" input: "gru" attr { key: "units" value { i: 16 } } }
node { name: "rec" op: "Dense" input: "h" attr { key: "units" value { i: 16 } } }
node { name: "sum" op: "Add" input: ["proj", "rec"] }
node { name: "h_t" op: "Tanh" input: "sum" }
node { name: "logits" op: "Dense" input: "h_t" attr { key: "units" value { i: 50 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

TEST(SteadyStateTest, TrainingStepsAllocateNothing) {
  auto parsed = ParseModelText(kModel, "mixed.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto session = Session::Create(*graph, {{{"T", 6}, {"N", 16}}});
  ASSERT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  std::vector<Shape> shapes;
  for (const ParamInfo& p : graph->params()) shapes.push_back(p.shape);
  TrainingDef def;
  def.mutable_adam();
  auto optimizer = Optimizer::Create(def, shapes);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  Tensor tokens = *s.input("tokens");
  Tensor targets = *s.input("targets");
  for (int64_t i = 0; i < tokens.num_elements(); ++i) {
    tokens.i32()[i] = i % 50;
    targets.i32()[i] = (i * 7) % 50;
  }
  auto step = [&] {
    ASSERT_TRUE(s.Forward().ok());
    ASSERT_TRUE(s.Backward().ok());
    ClipByGlobalNorm(s.param_grads(), 1.f);
    ASSERT_TRUE((*optimizer)->Apply(s.params(), s.param_grads(), 1e-3f).ok());
    s.CarryStates();
  };
  step();  // warm-up: first executions may JIT-compile kernels
  step();
  g_largest = 0;
  std::vector<int64_t> per_step;
  per_step.reserve(3);
  for (int i = 0; i < 3; ++i) {
    const int64_t before = g_allocations.load();
    step();
    per_step.push_back(g_allocations.load() - before);
  }
  // The smallest tensor here is 16 x 16 floats (1 KiB); oneDNN's argument
  // map (nodes and bucket array) stays far below that.
  EXPECT_LT(g_largest.load(), 1024u) << "a step allocated a buffer";
  EXPECT_EQ(per_step[0], per_step[1]);
  EXPECT_EQ(per_step[1], per_step[2]);
}

// The same with lengths and resets on a bidirectional LSTM: the pieces, their
// workspaces and states were all planned when the kernel was created. With
// the same lengths every step runs the same primitives (equal counts); with
// other lengths nothing buffer-sized is allocated either.
constexpr char kVarlenModel[] = R"(
format_version: 1
name: "varlen"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] }
input { name: "targets" dtype: INT32 dim: ["T", "N"] }
input { name: "len"     dtype: INT32 dim: ["N"] }
input { name: "rst"     dtype: FLOAT32 dim: ["T", "N"] }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 50 } } attr { key: "dim" value { i: 16 } } }
node { name: "lstm" op: "LSTM" input: ["embed", "", "", "len", "rst"]
       attr { key: "hidden" value { i: 16 } } attr { key: "layers" value { i: 2 } }
       attr { key: "direction" value { s: "bidirectional" } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 50 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

TEST(SteadyStateTest, LengthsAndResetsAllocateNothing) {
  auto parsed = ParseModelText(kVarlenModel, "varlen.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto session = Session::Create(*graph, {{{"T", 12}, {"N", 16}}});
  ASSERT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  Tensor tokens = *s.input("tokens"), targets = *s.input("targets");
  Tensor len = *s.input("len"), rst = *s.input("rst");
  for (int64_t i = 0; i < tokens.num_elements(); ++i) {
    tokens.i32()[i] = i % 50;
    targets.i32()[i] = (i * 7) % 50;
    rst.f32()[i] = i % 37 == 5 ? 1.f : 0.f;
  }
  auto set_lengths = [&](int shift) {
    for (int n = 0; n < 16; ++n) len.i32()[n] = 1 + (n * 5 + shift) % 12;
  };
  auto step = [&] {
    ASSERT_TRUE(s.Forward().ok());
    ASSERT_TRUE(s.Backward().ok());
    s.CarryStates();
  };
  set_lengths(0);
  step();
  step();
  g_largest = 0;
  std::vector<int64_t> per_step;
  per_step.reserve(3);
  for (int i = 0; i < 3; ++i) {
    const int64_t before = g_allocations.load();
    step();
    per_step.push_back(g_allocations.load() - before);
  }
  EXPECT_EQ(per_step[0], per_step[1]);
  EXPECT_EQ(per_step[1], per_step[2]);
  for (int shift = 1; shift < 6; ++shift) {
    set_lengths(shift);
    step();
  }
  EXPECT_LT(g_largest.load(), 1024u) << "a step allocated a buffer";
}

}  // namespace
}  // namespace rnnflow
