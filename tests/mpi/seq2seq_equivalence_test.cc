// Data parallelism of the encoder-decoder of examples/seq2seq over real MPI
// processes (ctest runs it under `mpiexec -np 2`): 2 ranks with batches of N
// word/pronunciation pairs train as one process with batches of 2N. Each
// step's loss (over the whole global batch) and every parameter after the
// steps agree within 1e-5: the encoder's parameters get their gradient only
// through the hand-off of its final states to the decoder, so they check
// that hand-off too. Sources (S, bound to the longest word) and targets (T)
// have their own time axes, and ranks hold different numbers of phonemes.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/mpi/equivalence.h"

namespace rnnflow {
namespace {

// 60 words of 2-9 letters in CMUdict's format; a doubled letter is one
// phoneme, so pronunciations are shorter than spellings by varying amounts.
std::string Prepare(const std::string& dir) {
  static const char* kPhonemes[] = {"AA", "B", "K", "D", "EH", "F", "G", "HH"};
  std::mt19937 rng(7);
  {
    std::ofstream out(dir + "/dict.txt");
    for (int i = 0; i < 60; ++i) {
      const int len = 2 + static_cast<int>(rng() % 8);
      std::string word, phonemes;
      for (int t = 0; t < len; ++t) {
        const int c = static_cast<int>(rng() % 8);
        const bool doubled = !word.empty() && word.back() == 'A' + c;
        word += static_cast<char>('A' + c);
        if (!doubled) phonemes += std::string(phonemes.empty() ? "" : " ") + kPhonemes[c];
      }
      out << word << "  " << phonemes << "\n";
    }
  }
  ExamplePrepareOptions o;
  o.format = "cmudict";
  o.fields.label = "";
  o.fields.target = "phonemes";
  o.label_kind = LabelKind::kNone;
  o.rules.level = TokenLevel::kChar;
  o.valid_fraction = 0;
  o.test_fraction = 0;
  auto r = PrepareExamples({dir + "/dict.txt"}, dir + "/prep", o);
  EXPECT_TRUE(r.ok()) << r.status();
  return dir + "/prep";
}

struct TrainedRun {
  std::vector<double> losses;  // per step, over the whole global batch
  ParamValues initial, params;
};

// Trains `steps` steps of n pairs per rank; the global loss of each step is
// the rank losses weighted by their phoneme counts (ph_out != -1).
TrainedRun Train(const Graph& graph, const std::string& data, int64_t n, GradientReducer* reducer,
                 int rank, int ranks) {
  TrainerOptions o;
  o.data_path = data;
  o.streams = n;
  o.steps = 6;
  o.truncation_steps = 8;  // a few pronunciations + end are cut at T
  o.learning_rate = 0.01f;
  o.validate = false;
  o.bucket_window = 2;
  o.threads = 1;
  o.reducer = reducer;
  o.world_rank = rank;
  o.world_size = ranks;
  TrainedRun out;
  auto trainer = Trainer::Create(graph, o);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  if (!trainer.ok()) return out;
  out.initial = CopyParams((*trainer)->session());
  for (int64_t s = 0; s < o.steps; ++s) {
    auto step = (*trainer)->Step();
    EXPECT_TRUE(step.ok()) << step.status();
    if (!step.ok()) return out;
    const Tensor labels = *(*trainer)->session().input("ph_out");
    double count = 0;
    for (int64_t i = 0; i < labels.num_elements(); ++i) count += labels.i32()[i] != -1;
    std::vector<double> sums = {step->loss * count, count};
    if (reducer != nullptr) {
      EXPECT_TRUE(TestWorld()->AllReduce(absl::MakeSpan(sums), WorkerGroup::Op::kSum).ok());
    }
    out.losses.push_back(sums[0] / sums[1]);
  }
  out.params = CopyParams((*trainer)->session());
  return out;
}

TEST(Seq2SeqEquivalenceTest, TwoRanksOfNPairsEqualOneProcessOf2N) {
  ASSERT_EQ(TestWorld()->size(), 2) << "run under mpiexec -np 2";
  auto file = LoadModelFile(RNNFLOW_SOURCE_DIR "/examples/seq2seq/model.pbtxt");
  ASSERT_TRUE(file.ok()) << file.status();
  auto graph = Graph::Build(file->model, file->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string data = Prepare(FreshRankDir("s2s_dp"));
  BucketedAllReducer reducer(TestWorld()->comm(), 1 << 16);
  const TrainedRun parallel = Train(*graph, data, 8, &reducer, TestWorld()->rank(), 2);
  const TrainedRun single = Train(*graph, data, 16, nullptr, 0, 1);
  ASSERT_EQ(parallel.losses.size(), single.losses.size());
  for (size_t s = 0; s < single.losses.size(); ++s) {
    EXPECT_NEAR(parallel.losses[s], single.losses[s], 1e-5) << "step " << s;
  }
  EXPECT_LT(single.losses.back(), single.losses.front());  // it trained
  ASSERT_NO_FATAL_FAILURE(ExpectSameParams(*graph, parallel.params, single.params, 1e-5));
  for (size_t p = 0; p < single.params.size(); ++p) {
    double moved = 0;
    for (size_t i = 0; i < single.params[p].size(); ++i) {
      moved = std::max<double>(moved, std::abs(single.params[p][i] - single.initial[p][i]));
    }
    // Every parameter trained, the encoder's through the hand-off alone.
    EXPECT_GT(moved, 1e-3) << graph->params()[p].name;
  }
}

}  // namespace
}  // namespace rnnflow
