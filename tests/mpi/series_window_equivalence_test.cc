// Windowed series training over real MPI processes (ctest runs it under
// `mpiexec -np 2`): 2 ranks with N windows per batch train exactly as one
// process with 2N, up to float summation order, across an epoch boundary,
// and validate to the same loss.
#include <cmath>
#include <fstream>

#include "gtest/gtest.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/mpi/equivalence.h"

namespace rnnflow {
namespace {

constexpr char kModel[] = R"(
format_version: 1
name: "dp_windows"
input { name: "x"    dtype: FLOAT32 dim: ["T", "N", "2"] feed: SERIES }
input { name: "next" dtype: FLOAT32 dim: ["T", "N", "2"] feed: NEXT_SERIES }
node { name: "lstm" op: "LSTM" input: "x" attr { key: "hidden" value { i: 8 } } }
node { name: "change" op: "Dense" input: "lstm" attr { key: "units" value { i: 2 } } }
node { name: "pred" op: "Add" input: ["x", "change"] }
node { name: "loss" op: "MeanSquaredError" input: ["pred", "next"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } clip_global_norm: 1 window: 7 seed: 4 }
)";

// 120 rows of two columns: train 84 rows = 77 windows of 7, valid 24 = 17.
std::string Prepare(const std::string& dir) {
  {
    std::ofstream out(dir + "/in.csv");
    out << "a,b\n";
    for (int t = 0; t < 120; ++t) out << std::sin(0.4 * t) << "," << std::cos(0.23 * t) << "\n";
  }
  SeriesPrepareOptions prep;
  prep.columns = {"a", "b"};
  prep.valid_fraction = 0.2;
  prep.test_fraction = 0.1;
  auto r = PrepareSeries(dir + "/in.csv", dir + "/prep", prep);
  EXPECT_TRUE(r.ok()) << r.status();
  return dir + "/prep";
}

struct TrainedRun {
  ParamValues params;
  float valid_loss = 0;
};

TrainedRun Train(const Graph& graph, const std::string& data, int64_t n, GradientReducer* reducer,
                 const WorkerGroup* workers, int rank, int ranks) {
  TrainerOptions o;
  o.data_path = data;
  o.streams = n;
  o.steps = 18;  // 18 x 6 = 108 windows: past the 77 of one epoch
  o.validate = true;
  o.valid_chunks = 1;
  o.reducer = reducer;
  o.workers = workers;
  o.world_rank = rank;
  o.world_size = ranks;
  auto trainer = Trainer::Create(graph, o);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  TrainedRun run;
  if (!trainer.ok()) return run;
  auto steps = (*trainer)->Run();
  EXPECT_TRUE(steps.ok()) << steps.status();
  auto valid = (*trainer)->Validate(1);
  EXPECT_TRUE(valid.ok()) << valid.status();
  if (valid.ok()) run.valid_loss = *valid;
  run.params = CopyParams((*trainer)->session());
  return run;
}

TEST(SeriesWindowEquivalenceTest, TwoRanksOfNWindowsEqualOneProcessOf2N) {
  ASSERT_EQ(TestWorld()->size(), 2) << "run under mpiexec -np 2";
  auto parsed = ParseModelText(kModel, "dp_windows.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string data = Prepare(FreshRankDir("series_dp"));
  BucketedAllReducer reducer(TestWorld()->comm(), 1024);
  const TrainedRun parallel = Train(*graph, data, 3, &reducer, TestWorld(), TestWorld()->rank(), 2);
  const TrainedRun single = Train(*graph, data, 6, nullptr, nullptr, 0, 1);
  ASSERT_NO_FATAL_FAILURE(ExpectSameParams(*graph, parallel.params, single.params, 2e-5));
  EXPECT_NEAR(parallel.valid_loss, single.valid_loss, 1e-5);
  EXPECT_GT(single.valid_loss, 0);
}

}  // namespace
}  // namespace rnnflow
