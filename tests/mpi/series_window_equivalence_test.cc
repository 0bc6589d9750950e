// Windowed series training over real MPI processes (ctest runs it under
// `mpiexec -np 2`): 2 ranks with N windows per batch train exactly as one
// process with 2N, up to float summation order, across an epoch boundary,
// and validate to the same loss.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

MpiWorld* g_world = nullptr;

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
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
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
  std::vector<std::vector<float>> params;
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
  for (const Tensor& p : (*trainer)->session().params()) {
    run.params.emplace_back(p.f32(), p.f32() + p.num_elements());
  }
  return run;
}

TEST(SeriesWindowEquivalenceTest, TwoRanksOfNWindowsEqualOneProcessOf2N) {
  ASSERT_EQ(g_world->size(), 2) << "run under mpiexec -np 2";
  auto parsed = ParseModelText(kModel, "dp_windows.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string data =
      Prepare(::testing::TempDir() + "/series_dp_rank" + std::to_string(g_world->rank()));
  BucketedAllReducer reducer(g_world->comm(), 1024);
  const TrainedRun parallel = Train(*graph, data, 3, &reducer, g_world, g_world->rank(), 2);
  const TrainedRun single = Train(*graph, data, 6, nullptr, nullptr, 0, 1);
  ASSERT_EQ(parallel.params.size(), single.params.size());
  for (size_t p = 0; p < single.params.size(); ++p) {
    for (size_t i = 0; i < single.params[p].size(); ++i) {
      ASSERT_NEAR(parallel.params[p][i], single.params[p][i], 2e-5)
          << "parameter " << graph->params()[p].name << "[" << i << "]";
    }
  }
  EXPECT_NEAR(parallel.valid_loss, single.valid_loss, 1e-5);
  EXPECT_GT(single.valid_loss, 0);
}

}  // namespace
}  // namespace rnnflow

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  auto world = rnnflow::MpiWorld::Init(&argc, &argv);
  if (!world.ok()) {
    fprintf(stderr, "%s\n", std::string(world.status().message()).c_str());
    return 1;
  }
  rnnflow::g_world = world->get();
  if ((*world)->rank() != 0) {
    delete testing::UnitTest::GetInstance()->listeners().Release(
        testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  return RUN_ALL_TESTS();
}
