// Data parallelism over real MPI processes (run by ctest under
// `mpiexec -np 2`): 2 ranks with N streams each train exactly as 1 process
// with 2N streams, up to float summation order, with dropout too (its draws
// are keyed by global column).
#include <cmath>
#include <cstring>

#include "gtest/gtest.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/initializer.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/optimizer.h"
#include "tests/testing/mpi/equivalence.h"

namespace rnnflow {
namespace {

constexpr char kModel[] = R"(
format_version: 1
name: "dp"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] }
input { name: "targets" dtype: INT32 dim: ["T", "N"] }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 20 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 16 } }
       attr { key: "layers" value { i: 2 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 20 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

// The same with dropout on the embeddings (a mask per element) and on the
// LSTM's outputs (one mask per column for all steps: shared_axes [0]).
constexpr char kDropoutModel[] = R"(
format_version: 1
name: "dp_dropout"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] }
input { name: "targets" dtype: INT32 dim: ["T", "N"] }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 20 } } attr { key: "dim" value { i: 8 } } }
node { name: "drop_in" op: "Dropout" input: "embed" attr { key: "rate" value { f: 0.3 } } }
node { name: "lstm" op: "LSTM" input: "drop_in" attr { key: "hidden" value { i: 16 } }
       attr { key: "layers" value { i: 2 } } }
node { name: "drop_out" op: "Dropout" input: "lstm" attr { key: "rate" value { f: 0.5 } }
       attr { key: "shared_axes" value { ints { i: 0 } } } }
node { name: "logits" op: "Dense" input: "drop_out" attr { key: "units" value { i: 20 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

constexpr int kT = 8, kStreams = 2, kSteps = 4;

// Token of global column c at absolute position p: deterministic, so every
// rank can build its own slice of the same corpus.
int32_t Token(int64_t c, int64_t p) {
  return static_cast<int32_t>(StableHash(std::to_string(c * 100003 + p)) % 20);
}

void Feed(Session& s, int64_t first_column, int64_t columns, int step) {
  Tensor tokens = *s.input("tokens");
  Tensor targets = *s.input("targets");
  for (int t = 0; t < kT; ++t) {
    for (int64_t c = 0; c < columns; ++c) {
      const int64_t p = step * kT + t;
      tokens.i32()[t * columns + c] = Token(first_column + c, p);
      targets.i32()[t * columns + c] = Token(first_column + c, p + 1);
    }
  }
}

struct Trained {
  ParamValues params;
  std::vector<float> losses;
};

Trained Train(const Graph& graph, int64_t first_column, int64_t columns, GradientReducer* reducer) {
  Trained out;
  auto session = Session::Create(graph, {{{"T", kT}, {"N", columns}}});
  EXPECT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  if (reducer != nullptr) {
    EXPECT_TRUE(s.SetGradientReducer(reducer).ok());
  }
  std::vector<Shape> shapes;
  for (const ParamInfo& p : graph.params()) shapes.push_back(p.shape);
  TrainingDef def;
  def.mutable_adam();
  auto optimizer = *Optimizer::Create(def, shapes);
  for (int step = 0; step < kSteps; ++step) {
    Feed(s, first_column, columns, step);
    RunInfo run;  // a training pass, as the Trainer runs it
    run.training = true;
    run.seed = 11;
    run.step = step;
    run.first_column = first_column;
    s.set_run_info(run);
    EXPECT_TRUE(s.Forward().ok());
    EXPECT_TRUE(s.Backward().ok());
    ClipByGlobalNorm(s.param_grads(), 0.5f);  // after the reduction: same on every rank
    EXPECT_TRUE(optimizer->Apply(s.params(), s.param_grads(), 0.01f).ok());
    s.CarryStates();
    out.losses.push_back(s.loss());
  }
  out.params = CopyParams(s);
  return out;
}

// Trains `model` on 2 ranks x kStreams and on 1 process x 2 kStreams and
// requires the same parameters.
void ExpectTwoRanksEqualOneProcess(const char* model) {
  ASSERT_EQ(TestWorld()->size(), 2) << "run under mpiexec -np 2";
  auto parsed = ParseModelText(model, "dp.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();

  // Small buckets, so the plan has several and they overlap the backward.
  BucketedAllReducer reducer(TestWorld()->comm(), 4 * 1024);
  Trained parallel = Train(*graph, TestWorld()->rank() * kStreams, kStreams, &reducer);
  EXPECT_GT(reducer.num_buckets(), 2);
  EXPECT_TRUE(TestWorld()->CheckSameEverywhere("bucket plan", reducer.PlanHash()).ok());

  Trained single = Train(*graph, 0, 2 * kStreams, nullptr);
  // Tolerance: the two runs add the same per-position gradients in a
  // different order (per rank, then across ranks), about 1e-7 relative per
  // step; 4 Adam steps at lr 0.01 keep differences far below 1e-5.
  ASSERT_NO_FATAL_FAILURE(ExpectSameParams(*graph, parallel.params, single.params, 1e-5));
  // The parameters are identical on both ranks bit for bit.
  uint64_t h = 0;
  for (const auto& p : parallel.params) {
    h = StableHash(std::string(reinterpret_cast<const char*>(p.data()), p.size() * 4), h);
  }
  EXPECT_TRUE(TestWorld()->CheckSameEverywhere("trained parameters", h).ok());
}

TEST(DistEquivalenceTest, TwoRanksEqualOneProcessWithAllStreams) {
  ExpectTwoRanksEqualOneProcess(kModel);
}

// Each rank draws the dropout masks of its own global columns, so together
// they drop what one process drops.
TEST(DistEquivalenceTest, TwoRanksEqualOneProcessWithDropout) {
  ExpectTwoRanksEqualOneProcess(kDropoutModel);
}

TEST(DistEquivalenceTest, MismatchedConfigurationFailsFastOnEveryRank) {
  const absl::Status s =
      TestWorld()->CheckSameEverywhere("model hash", TestWorld()->rank() == 0 ? 1234 : 5678);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "model hash differs between rank 0 and rank 1 of 2; every rank must run the same "
            "model and configuration");
}

}  // namespace
}  // namespace rnnflow
