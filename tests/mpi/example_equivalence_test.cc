// Example-mode data parallelism over real MPI processes (ctest runs it under
// `mpiexec -np 2`): 2 ranks with batches of N examples train exactly as one
// process with batches of 2N, up to float summation order, including
// partial last batches, per-step masks that leave the ranks with
// different numbers of real positions, and dropout.
#include <cmath>
#include <fstream>
#include <random>

#include "gtest/gtest.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/mpi/equivalence.h"

namespace rnnflow {
namespace {

// A per-step tagger: the masked loss counts each example's own length. Its
// dropout draws by global batch slot, so the ranks drop what one process does.
constexpr char kModel[] = R"(
format_version: 1
name: "dp_tagger"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "lengths" dtype: INT32 dim: ["N"] feed: EXAMPLE_LENGTHS }
input { name: "tags"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TAGS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 16 } } attr { key: "dim" value { i: 8 } } }
node { name: "drop" op: "Dropout" input: "embed" attr { key: "rate" value { f: 0.25 } } }
node { name: "lstm" op: "LSTM" input: ["drop", "", "", "lengths"]
       attr { key: "hidden" value { i: 8 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 3 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "tags"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } clip_global_norm: 1 truncation_steps: 9 seed: 5 }
)";

// 29 examples of 2-12 words: with global batches of 8, each epoch ends with
// a partial batch (and T = 9 truncates some examples).
std::string Prepare(const std::string& dir) {
  std::mt19937 rng(3);
  std::string json = "[";
  for (int i = 0; i < 29; ++i) {
    const int len = 2 + static_cast<int>(rng() % 11);
    std::string words, tags;
    for (int t = 0; t < len; ++t) {
      const int w = static_cast<int>(rng() % 12);
      words += std::string(t ? "\", \"" : "\"") + "w" + std::to_string(w);
      tags += std::string(t ? "\", \"" : "\"") + std::to_string(w % 3);
    }
    json += std::string(i ? "," : "") + "{\"w\": [" + words + "\"], \"t\": [" + tags + "\"]}";
  }
  json += "]";
  std::ofstream(dir + "/in.json") << json;
  ExamplePrepareOptions o;
  o.fields.text = "w";
  o.fields.tags = "t";
  o.fields.label = "";
  o.valid_fraction = 0;
  o.test_fraction = 0;
  o.deduplicate = false;
  auto r = PrepareExamples({dir + "/in.json"}, dir + "/prep", o);
  EXPECT_TRUE(r.ok()) << r.status();
  return dir + "/prep";
}

ParamValues Train(const Graph& graph, const std::string& data, int64_t n, GradientReducer* reducer,
                  int rank, int ranks) {
  TrainerOptions o;
  o.data_path = data;
  o.streams = n;
  o.steps = 9;  // two epochs and a bit
  o.validate = false;
  o.bucket_window = 2;
  o.reducer = reducer;
  o.world_rank = rank;
  o.world_size = ranks;
  auto trainer = Trainer::Create(graph, o);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  auto run = (*trainer)->Run();
  EXPECT_TRUE(run.ok()) << run.status();
  return CopyParams((*trainer)->session());
}

TEST(ExampleEquivalenceTest, TwoRanksOfNEqualOneProcessOf2N) {
  ASSERT_EQ(TestWorld()->size(), 2) << "run under mpiexec -np 2";
  auto parsed = ParseModelText(kModel, "dp_tagger.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string data = Prepare(FreshRankDir("example_dp"));
  BucketedAllReducer reducer(TestWorld()->comm(), 1024);
  const auto parallel = Train(*graph, data, 4, &reducer, TestWorld()->rank(), 2);
  const auto single = Train(*graph, data, 8, nullptr, 0, 1);
  ExpectSameParams(*graph, parallel, single, 2e-5);
}

}  // namespace
}  // namespace rnnflow
