// Windowed series training (dataset/series_windows.h and its use by the
// trainer): which windows an epoch visits, that none crosses the split's
// end, that every window starts from a zero state, that it learns, resumes
// exactly, and rejects bad windows with a clear error.
#include "rnnflow/dataset/series_windows.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/series_forecast.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

constexpr char kModel[] = R"(
format_version: 1
name: "window_forecast"
input { name: "x"    dtype: FLOAT32 dim: ["T", "N", "1"] feed: SERIES }
input { name: "next" dtype: FLOAT32 dim: ["T", "N", "1"] feed: NEXT_SERIES }
node { name: "lstm" op: "LSTM" input: "x" attr { key: "hidden" value { i: 24 } } }
node { name: "pred" op: "Dense" input: "lstm" attr { key: "units" value { i: 1 } } }
node { name: "loss" op: "MeanSquaredError" input: ["pred", "next"] }
output: "pred"
loss: "loss"
training {
  adam {}
  learning_rate { base: 0.01 }
  clip_global_norm: 5
  streams_per_worker: 8
  window: 20
  seed: 3
}
)";

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Prepares one column holding `values`; train / valid / test fractions as given.
std::string PrepareValues(const std::string& name, const std::vector<double>& values, double valid,
                          double test) {
  const std::string csv = TempPath(name + ".csv");
  {
    std::ofstream out(csv);
    out.precision(17);
    out << "v\n";
    for (double v : values) out << v << "\n";
  }
  const std::string dir = TempPath(name);
  std::filesystem::remove_all(dir);
  SeriesPrepareOptions prep;
  prep.columns = {"v"};
  prep.valid_fraction = valid;
  prep.test_fraction = test;
  auto prepared = PrepareSeries(csv, dir, prep);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  return dir;
}

Graph BuildGraph(const char* text) {
  auto parsed = ParseModelText(text, "model.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

// Row r of a prepared ramp holds r (in original units).
int64_t RowOf(const SeriesFile& file, float z) { return std::lround(file.Denormalize(0, z)); }

TEST(SeriesWindowsTest, EveryWindowOncePerEpochAndNoneCrossesTheSplit) {
  std::vector<double> ramp(100);
  for (int i = 0; i < 100; ++i) ramp[i] = i;
  const std::string dir = PrepareValues("windows_ramp", ramp, 0.2, 0.1);  // train: rows 0-69
  SeriesWindowOptions o;
  o.window = 6;
  o.batch = 4;
  o.seed = 9;
  auto w = SeriesWindows::Open(dir, "train", o);
  ASSERT_TRUE(w.ok()) << w.status();
  const int64_t E = (*w)->num_windows();
  EXPECT_EQ(E, 70 - 6);  // starts 0..63: the last window's target is row 69
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<int64_t> starts;
    for (int64_t k = epoch * E; k < (epoch + 1) * E; ++k) starts.insert((*w)->WindowStart(k));
    EXPECT_EQ(static_cast<int64_t>(starts.size()), E) << "epoch " << epoch;
    EXPECT_EQ(*starts.begin(), 0);
    EXPECT_EQ(*starts.rbegin(), E - 1);
  }
  // Shuffled, and differently in each epoch.
  std::vector<int64_t> e0, e1;
  for (int64_t k = 0; k < E; ++k) {
    e0.push_back((*w)->WindowStart(k));
    e1.push_back((*w)->WindowStart(E + k));
  }
  EXPECT_NE(e0, e1);
  EXPECT_FALSE(std::is_sorted(e0.begin(), e0.end()));

  // Batches, including the one straddling the first epoch's end (64 = 16 x 4
  // windows: batch 16 is the first of epoch 2), hold W consecutive rows and
  // the row after each.
  std::vector<float> in(6 * 4), target(6 * 4);
  const SeriesFile& file = (*w)->file();
  for (int64_t b = 0; b < 20; ++b) {
    (*w)->Next(absl::MakeSpan(in), absl::MakeSpan(target));
    for (int64_t j = 0; j < 4; ++j) {
      const int64_t s = (*w)->WindowStart(b * 4 + j);
      for (int64_t t = 0; t < 6; ++t) {
        ASSERT_EQ(RowOf(file, in[t * 4 + j]), s + t) << "batch " << b << " slot " << j;
        ASSERT_EQ(RowOf(file, target[t * 4 + j]), s + t + 1);
        ASSERT_LT(s + t + 1, 70) << "a target past the train split";
      }
    }
  }
  EXPECT_EQ((*w)->position(), 20);

  // Two ranks of N windows take the slots of one rank of 2N.
  SeriesWindowOptions both = o;
  both.batch = 8;
  auto one = SeriesWindows::Open(dir, "train", both);
  ASSERT_TRUE(one.ok());
  std::vector<float> in8(6 * 8), t8(6 * 8);
  (*one)->set_position(3);
  (*one)->Next(absl::MakeSpan(in8), absl::MakeSpan(t8));
  for (int rank = 0; rank < 2; ++rank) {
    SeriesWindowOptions r = o;
    r.ranks = 2;
    r.rank = rank;
    auto part = SeriesWindows::Open(dir, "train", r);
    ASSERT_TRUE(part.ok());
    (*part)->set_position(3);
    (*part)->Next(absl::MakeSpan(in), absl::MakeSpan(target));
    for (int64_t t = 0; t < 6; ++t) {
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_EQ(in[t * 4 + j], in8[t * 8 + rank * 4 + j]);
        EXPECT_EQ(target[t * 4 + j], t8[t * 8 + rank * 4 + j]);
      }
    }
  }

  // Unshuffled (validation, evaluation): starts in order.
  o.shuffle = false;
  auto valid = SeriesWindows::Open(dir, "valid", o);  // rows 70-89: 14 windows
  ASSERT_TRUE(valid.ok());
  EXPECT_EQ((*valid)->num_windows(), 14);
  (*valid)->Next(absl::MakeSpan(in), absl::MakeSpan(target));
  EXPECT_EQ(RowOf(file, in[0]), 70);
  EXPECT_EQ(RowOf(file, in[3]), 73);
  EXPECT_EQ(RowOf(file, target[5 * 4 + 3]), 79);
}

TEST(SeriesWindowsTest, BadWindowsAreClearErrors) {
  std::vector<double> ramp(50);
  for (int i = 0; i < 50; ++i) ramp[i] = i;
  const std::string dir = PrepareValues("windows_bad", ramp, 0.1, 0.1);  // train: 40 rows
  SeriesWindowOptions o;
  o.window = 0;
  auto w = SeriesWindows::Open(dir, "train", o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("window must be >= 1"), std::string::npos) << w.status();
  o.window = 40;  // needs 41 rows
  w = SeriesWindows::Open(dir, "train", o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("does not fit the train split's 40 rows"), std::string::npos)
      << w.status();
  o.window = 39;
  EXPECT_TRUE(SeriesWindows::Open(dir, "train", o).ok());

  Graph graph = BuildGraph(kModel);
  TrainerOptions options;
  options.data_path = dir;
  options.window = 45;
  auto trainer = Trainer::Create(graph, options);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.status().message().find("does not fit"), std::string::npos) << trainer.status();
  options.window = 10;
  options.truncation_steps = 12;
  trainer = Trainer::Create(graph, options);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.status().message().find("T = W"), std::string::npos) << trainer.status();
  options.truncation_steps = -1;
  options.window = -5;
  trainer = Trainer::Create(graph, options);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.status().message().find("TrainerOptions::window must be >= 1"),
            std::string::npos)
      << trainer.status();
}

// 100 + 5 sin(2 pi t / 20) + N(0, 0.25^2), 3000 rows.
std::vector<double> NoisySine() {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 0.25);
  std::vector<double> v;
  for (int t = 0; t < 3000; ++t)
    v.push_back(100.0 + 5.0 * std::sin(2 * M_PI * t / 20.0) + noise(rng));
  return v;
}

TEST(SeriesWindowsTest, WindowedTrainingLearnsANoisySine) {
  const std::string dir = PrepareValues("windows_sine", NoisySine(), 0.1, 0.1);
  Graph graph = BuildGraph(kModel);  // training.window: 20
  TrainerOptions options;
  options.data_path = dir;
  options.steps = 250;
  options.valid_chunks = 5;
  auto trainer = Trainer::Create(graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_EQ((*trainer)->T(), 20);
  auto results = (*trainer)->Run();
  ASSERT_TRUE(results.ok()) << results.status();
  auto valid = (*trainer)->Validate(5);
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_LT(*valid, 0.05);  // normalised MSE; the series' variance is 1

  auto file = SeriesFile::Open(dir + "/series.f32");
  ASSERT_TRUE(file.ok());
  auto predictor = ModelSeriesPredictor::Create(graph, 1, 20);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  const std::vector<Tensor>& trained = (*trainer)->session().params();
  for (size_t i = 0; i < trained.size(); ++i) {
    std::copy(trained[i].f32(), trained[i].f32() + trained[i].num_elements(),
              (*predictor)->params()[i].f32());
  }
  ForecastOptions fo;
  fo.horizon = 3;
  auto report = EvaluateSeriesForecasts(**file, 2, **predictor, fo);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->positions, 300);
  for (const ForecastHorizonMetrics& h : report->horizons) {
    const ForecastColumnMetrics& m = h.columns[0];
    EXPECT_LT(m.rmse, 0.6 * m.persistence_rmse) << "h=" << h.horizon << " RMSE " << m.rmse;
  }
}

TEST(SeriesWindowsTest, EveryTrainingBatchStartsFromAZeroState) {
  std::vector<double> sine = NoisySine();
  sine.resize(400);
  const std::string dir = PrepareValues("windows_zero", sine, 0.1, 0.1);
  Graph graph = BuildGraph(kModel);
  TrainerOptions o;
  o.data_path = dir;
  o.validate = false;
  o.streams = 4;
  o.window = 9;
  auto trainer = Trainer::Create(graph, o);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Step().ok());  // leaves a non-zero final state behind
  float carried = 0;
  for (const Tensor& t : (*trainer)->session().carried_states()) {
    for (int64_t i = 0; i < t.num_elements(); ++i) carried += std::abs(t.f32()[i]);
  }
  EXPECT_GT(carried, 0.f);
  std::vector<std::vector<float>> params;
  for (const Tensor& p : (*trainer)->session().params()) {
    params.emplace_back(p.f32(), p.f32() + p.num_elements());
  }
  auto second = (*trainer)->Step();  // its loss: the forward before the update
  ASSERT_TRUE(second.ok()) << second.status();

  // The same batch in a fresh session (zero state) with those parameters.
  SessionOptions so;
  so.bindings = {{"T", 9}, {"N", 4}};
  so.training = false;
  auto session = Session::Create(graph, so);
  ASSERT_TRUE(session.ok()) << session.status();
  for (size_t i = 0; i < params.size(); ++i) {
    std::copy(params[i].begin(), params[i].end(), (*session)->params()[i].f32());
  }
  SeriesWindowOptions wo;
  wo.window = 9;
  wo.batch = 4;
  wo.seed = 3;  // the model's training.seed
  auto windows = SeriesWindows::Open(dir, "train", wo);
  ASSERT_TRUE(windows.ok());
  (*windows)->set_position(1);
  Tensor x = *(*session)->value("x");
  Tensor next = *(*session)->value("next");
  (*windows)->Next(absl::MakeSpan(x.f32(), x.num_elements()),
                   absl::MakeSpan(next.f32(), next.num_elements()));
  ASSERT_TRUE((*session)->Forward().ok());
  EXPECT_NEAR(second->loss, (*session)->loss(), 1e-6f * std::abs(second->loss));
}

// Losses of `steps` steps, optionally resumed from a checkpoint directory.
std::vector<float> Losses(const Graph& graph, const std::string& data, const std::string& ckpt,
                          int64_t steps, bool resume) {
  TrainerOptions o;
  o.data_path = data;
  o.steps = steps;
  o.validate = false;
  o.window = 12;
  o.streams = 5;
  o.threads = 1;
  o.checkpoint_dir = ckpt;
  o.checkpoint_every = 0;
  o.resume = resume;
  auto trainer = Trainer::Create(graph, o);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  if (!trainer.ok()) return {};
  auto run = (*trainer)->Run();
  EXPECT_TRUE(run.ok()) << run.status();
  std::vector<float> losses;
  for (const StepResult& r : *run) losses.push_back(r.loss);
  return losses;
}

TEST(SeriesWindowsTest, ResumeContinuesExactly) {
  std::vector<double> sine = NoisySine();
  sine.resize(300);
  const std::string dir = PrepareValues("windows_resume", sine, 0.1, 0.1);  // 240 train rows
  Graph graph = BuildGraph(kModel);
  const std::string a = TempPath("windows_resume_a"), b = TempPath("windows_resume_b");
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
  // 228 windows / 5 per step: steps 46-60 cross into the second epoch.
  const std::vector<float> straight = Losses(graph, dir, a, 60, false);
  const std::vector<float> first = Losses(graph, dir, b, 40, false);
  const std::vector<float> rest = Losses(graph, dir, b, 60, true);
  ASSERT_EQ(straight.size(), 60u);
  ASSERT_EQ(first.size() + rest.size(), 60u);
  for (size_t i = 0; i < 60; ++i) {
    const float resumed = i < 40 ? first[i] : rest[i - 40];
    EXPECT_EQ(straight[i], resumed) << "step " << i + 1;
  }
}

}  // namespace
}  // namespace rnnflow
