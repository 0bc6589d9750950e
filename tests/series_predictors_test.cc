// Forecasting predictors (inference/series_predictors.h): a windowed forecast
// is the window run alone from a zero state; iterated multi-step forecasts
// are the model's own forecasts fed back by hand; horizon 1 is the one-step
// forecast of the stateful evaluation.
#include "rnnflow/inference/series_predictors.h"

#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
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

// Two columns, a residual forecaster as in examples/forecast.
constexpr char kModel[] = R"(
format_version: 1
name: "predictors"
input { name: "x"    dtype: FLOAT32 dim: ["T", "N", "2"] feed: SERIES }
input { name: "next" dtype: FLOAT32 dim: ["T", "N", "2"] feed: NEXT_SERIES }
node { name: "lstm" op: "LSTM" input: "x" attr { key: "hidden" value { i: 12 } } }
node { name: "change" op: "Dense" input: "lstm" attr { key: "units" value { i: 2 } } }
node { name: "pred" op: "Add" input: ["x", "change"] }
node { name: "loss" op: "MeanSquaredError" input: ["pred", "next"] }
output: "pred"
loss: "loss"
training { adam {} learning_rate { base: 0.01 } streams_per_worker: 4 window: 8 seed: 2 }
)";

class SeriesPredictorsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/series_predictors";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    {
      std::ofstream out(dir_ + "/in.csv");
      out << "a,b\n";
      for (int t = 0; t < 200; ++t) {
        out << 10 + 3 * std::sin(t * 0.3) << "," << 2 * std::cos(t * 0.17) + 0.01 * t << "\n";
      }
    }
    SeriesPrepareOptions prep;
    prep.columns = {"a", "b"};
    prep.valid_fraction = 0.1;
    prep.test_fraction = 0.2;
    ASSERT_TRUE(PrepareSeries(dir_ + "/in.csv", dir_ + "/prep", prep).ok());
    auto file = SeriesFile::Open(dir_ + "/prep/series.f32");
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = *std::move(file);
    auto parsed = ParseModelText(kModel, "model.pbtxt");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    auto graph = Graph::Build(parsed->model, parsed->source);
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = std::make_unique<Graph>(*std::move(graph));
    // A few windowed steps: non-trivial weights.
    TrainerOptions o;
    o.data_path = dir_ + "/prep";
    o.steps = 20;
    o.validate = false;
    auto trainer = Trainer::Create(*graph_, o);
    ASSERT_TRUE(trainer.ok()) << trainer.status();
    ASSERT_TRUE((*trainer)->Run().ok());
    for (const Tensor& p : (*trainer)->session().params()) {
      params_.emplace_back(p.f32(), p.f32() + p.num_elements());
    }
  }

  void Load(const std::vector<Tensor>& into) const {
    for (size_t i = 0; i < into.size(); ++i) {
      std::copy(params_[i].begin(), params_[i].end(), into[i].f32());
    }
  }

  std::unique_ptr<ModelSeriesPredictor> Predictor(int64_t window) const {
    auto p = ModelSeriesPredictor::Create(*graph_, 2, window);
    EXPECT_TRUE(p.ok()) << p.status();
    Load((*p)->params());
    return *std::move(p);
  }

  // The last step's output of a fresh T = rows, N = 1 session fed `rows`
  // (the training graph's shape: one fused LSTM call from a zero state).
  std::vector<float> RunAlone(const std::vector<std::vector<float>>& rows) const {
    SessionOptions so;
    so.bindings = {{"T", static_cast<int64_t>(rows.size())}, {"N", 1}};
    so.training = false;
    auto session = Session::Create(*graph_, so);
    EXPECT_TRUE(session.ok()) << session.status();
    Load((*session)->params());
    Tensor x = *(*session)->value("x");
    for (size_t t = 0; t < rows.size(); ++t)
      std::copy(rows[t].begin(), rows[t].end(), x.f32() + 2 * t);
    EXPECT_TRUE((*session)->Forward().ok());
    const Tensor out = *(*session)->value("pred");
    const float* last = out.f32() + 2 * (rows.size() - 1);
    return {last[0], last[1]};
  }

  std::vector<float> Row(int64_t r) const { return {file_->at(r, 0), file_->at(r, 1)}; }

  std::string dir_;
  std::unique_ptr<SeriesFile> file_;
  std::unique_ptr<Graph> graph_;
  std::vector<std::vector<float>> params_;
};

TEST_F(SeriesPredictorsTest, WindowedForecastIsTheWindowRunAloneFromZero) {
  auto windowed = Predictor(8);
  for (int64_t r = 0; r < 120; ++r) ASSERT_TRUE(windowed->Observe(Row(r)).ok());
  // Forecasts from origin 119 after 120 rows: exactly rows 112..119 in a
  // fresh session, whatever came before.
  std::vector<float> ahead(2 * 3);
  ASSERT_TRUE(windowed->ForecastAhead(3, absl::MakeSpan(ahead)).ok());
  std::vector<std::vector<float>> window;
  for (int64_t r = 112; r < 120; ++r) window.push_back(Row(r));
  for (int h = 0; h < 3; ++h) {
    const std::vector<float> alone = RunAlone(window);
    EXPECT_NEAR(ahead[2 * h], alone[0], 1e-5) << "h=" << h + 1;
    EXPECT_NEAR(ahead[2 * h + 1], alone[1], 1e-5) << "h=" << h + 1;
    // By hand: slide the window over the forecast just made.
    window.erase(window.begin());
    window.push_back({ahead[2 * h], ahead[2 * h + 1]});
  }
  // The forecast differs from the same model with its state carried (so
  // the equality above is not vacuous), and forecasting changed nothing.
  auto stateful = Predictor(0);
  for (int64_t r = 0; r < 120; ++r) ASSERT_TRUE(stateful->Observe(Row(r)).ok());
  std::vector<float> carried(2), again(2);
  ASSERT_TRUE(stateful->ForecastAhead(1, absl::MakeSpan(carried)).ok());
  EXPECT_GT(std::abs(carried[0] - ahead[0]) + std::abs(carried[1] - ahead[1]), 1e-4);
  ASSERT_TRUE(windowed->ForecastAhead(1, absl::MakeSpan(again)).ok());
  EXPECT_EQ(again[0], ahead[0]);
  EXPECT_EQ(again[1], ahead[1]);
}

TEST_F(SeriesPredictorsTest, StatefulMultiStepFeedsItsForecastsBack) {
  auto predictor = Predictor(0);
  auto by_hand = SeriesModelForecaster::Create(*graph_, 2);
  ASSERT_TRUE(by_hand.ok());
  Load((*by_hand)->params());
  std::vector<float> next(2);
  for (int64_t r = 0; r <= 90; ++r) {
    ASSERT_TRUE(predictor->Observe(Row(r)).ok());
    ASSERT_TRUE((*by_hand)->Forecast(Row(r), absl::MakeSpan(next)).ok());
  }
  std::vector<float> ahead(2 * 4);
  ASSERT_TRUE(predictor->ForecastAhead(4, absl::MakeSpan(ahead)).ok());
  for (int h = 0; h < 4; ++h) {
    EXPECT_NEAR(ahead[2 * h], next[0], 1e-6) << "h=" << h + 1;
    EXPECT_NEAR(ahead[2 * h + 1], next[1], 1e-6) << "h=" << h + 1;
    std::vector<float> fed = next;
    ASSERT_TRUE((*by_hand)->Forecast(fed, absl::MakeSpan(next)).ok());
  }
  // The state after row 90 was restored: the next observation continues
  // the series as if nothing had been forecast.
  auto fresh = SeriesModelForecaster::Create(*graph_, 2);
  ASSERT_TRUE(fresh.ok());
  Load((*fresh)->params());
  for (int64_t r = 0; r <= 91; ++r)
    ASSERT_TRUE((*fresh)->Forecast(Row(r), absl::MakeSpan(next)).ok());
  ASSERT_TRUE(predictor->Observe(Row(91)).ok());
  ASSERT_TRUE(predictor->ForecastAhead(1, absl::MakeSpan(ahead.data(), 2)).ok());
  EXPECT_EQ(ahead[0], next[0]);
  EXPECT_EQ(ahead[1], next[1]);
}

TEST_F(SeriesPredictorsTest, HorizonOneIsTheOneStepEvaluation) {
  ForecastOptions one;
  one.season = 5;
  auto forecaster = SeriesModelForecaster::Create(*graph_, 2);
  ASSERT_TRUE(forecaster.ok());
  Load((*forecaster)->params());
  auto reference = EvaluateSeriesForecasts(*file_, 2, (*forecaster)->AsFunction(), one);
  ASSERT_TRUE(reference.ok()) << reference.status();
  for (int64_t window : {0, 8}) {
    ForecastOptions three = one;
    three.horizon = 3;
    auto p1 = Predictor(window), p3 = Predictor(window);
    auto r1 = EvaluateSeriesForecasts(*file_, 2, *p1, one);
    auto r3 = EvaluateSeriesForecasts(*file_, 2, *p3, three);
    ASSERT_TRUE(r1.ok() && r3.ok());
    ASSERT_EQ(r3->horizons.size(), 3u);
    EXPECT_EQ(r3->horizons[0].positions, r1->positions);
    EXPECT_EQ(r3->horizons[2].positions, r1->positions - 2);  // o + 3 must lie in the split
    for (int c = 0; c < 2; ++c) {
      EXPECT_EQ(r3->horizons[0].columns[c].rmse, r1->columns[c].rmse);
      EXPECT_EQ(r3->horizons[0].columns[c].seasonal_mae, r1->columns[c].seasonal_mae);
      if (window == 0) {
        // The stateful predictor is the one-step function's evaluation.
        EXPECT_EQ(r1->columns[c].rmse, reference->columns[c].rmse);
        EXPECT_EQ(r1->columns[c].mae, reference->columns[c].mae);
        EXPECT_EQ(r1->positions, reference->positions);
      } else {
        EXPECT_NE(r1->columns[c].rmse, reference->columns[c].rmse);
      }
      // The baselines do not depend on the model or its mode.
      EXPECT_EQ(r1->columns[c].persistence_rmse, reference->columns[c].persistence_rmse);
    }
  }
}

TEST_F(SeriesPredictorsTest, BadCallsAreErrors) {
  EXPECT_FALSE(ModelSeriesPredictor::Create(*graph_, 2, -1).ok());
  EXPECT_FALSE(ModelSeriesPredictor::Create(*graph_, 3, 0).ok());  // the model has 2 columns
  auto p = Predictor(4);
  std::vector<float> out(2);
  EXPECT_FALSE(p->ForecastAhead(1, absl::MakeSpan(out)).ok());  // nothing observed
  ASSERT_TRUE(p->Observe(Row(0)).ok());
  EXPECT_FALSE(p->ForecastAhead(0, absl::MakeSpan(out)).ok());
  EXPECT_FALSE(p->ForecastAhead(2, absl::MakeSpan(out)).ok());  // no room for 2 rows
  EXPECT_TRUE(p->ForecastAhead(1, absl::MakeSpan(out)).ok());
}

}  // namespace
}  // namespace rnnflow
