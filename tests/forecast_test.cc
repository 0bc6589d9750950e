// Time-series training and forecasting: a model fed SERIES / NEXT_SERIES
// trained with truncated BPTT on a prepared CSV, scored in original units
// beside the persistence and seasonal-naive baselines.
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dataset/series_reader.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/series_forecast.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

constexpr char kModel[] = R"(
format_version: 1
name: "tiny_forecast"
input { name: "x"    dtype: FLOAT32 dim: ["T", "N", "1"] feed: SERIES }
input { name: "next" dtype: FLOAT32 dim: ["T", "N", "1"] feed: NEXT_SERIES }
node { name: "lstm" op: "LSTM" input: "x" attr { key: "hidden" value { i: 32 } } }
node { name: "pred" op: "Dense" input: "lstm" attr { key: "units" value { i: 1 } } }
node { name: "loss" op: "MeanSquaredError" input: ["pred", "next"] }
output: "pred"
loss: "loss"
training {
  adam {}
  learning_rate { base: 0.01 }
  clip_global_norm: 5
  truncation_steps: 20
  streams_per_worker: 8
  seed: 5
}
)";

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Writes `header` then one line per row.
std::string WriteCsv(const std::string& name, const std::string& header,
                     const std::vector<std::vector<double>>& rows) {
  const std::string path = TempPath(name);
  std::ofstream out(path);
  out << header << "\n";
  out.precision(17);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << row[c];
    out << "\n";
  }
  return path;
}

Graph BuildGraph(const char* text) {
  auto parsed = ParseModelText(text, "model.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

TEST(ForecastTest, NoisySineTrainsToBeatPersistence) {
  // 100 + 5 sin(2 pi t / 20) + N(0, 0.25^2): persistence errs by about 1.1
  // per step, a model that learned the cycle by about the noise (0.25 * 1.1).
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.25);
  std::vector<std::vector<double>> rows;
  for (int t = 0; t < 6000; ++t) {
    rows.push_back({100.0 + 5.0 * std::sin(2 * M_PI * t / 20.0) + noise(rng)});
  }
  const std::string csv = WriteCsv("forecast_sine.csv", "time_value", rows);
  const std::string dir = TempPath("forecast_sine");
  SeriesPrepareOptions prep;
  prep.columns = {"time_value"};
  prep.valid_fraction = 0.1;
  prep.test_fraction = 0.1;
  auto prepared = PrepareSeries(csv, dir, prep);
  ASSERT_TRUE(prepared.ok()) << prepared.status();

  Graph graph = BuildGraph(kModel);
  TrainerOptions options;
  options.data_path = dir;
  options.steps = 400;
  options.valid_chunks = 10;
  auto trainer = Trainer::Create(graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto results = (*trainer)->Run();
  ASSERT_TRUE(results.ok()) << results.status();
  // Normalised MSE: the series' variance is 1, the noise's about 0.005.
  EXPECT_LT(results->back().loss, 0.05);
  auto valid = (*trainer)->Validate(10);
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_LT(*valid, 0.05);

  auto file = SeriesFile::Open(dir + "/series.f32");
  ASSERT_TRUE(file.ok()) << file.status();
  auto forecaster = SeriesModelForecaster::Create(graph, 1);
  ASSERT_TRUE(forecaster.ok()) << forecaster.status();
  const std::vector<Tensor>& trained = (*trainer)->session().params();
  for (size_t i = 0; i < trained.size(); ++i) {
    std::copy(trained[i].f32(), trained[i].f32() + trained[i].num_elements(),
              (*forecaster)->params()[i].f32());
  }
  ForecastOptions fo;
  fo.season = 20;
  fo.forecasts_path = TempPath("forecast_sine_test.csv");
  auto report = EvaluateSeriesForecasts(**file, 2, (*forecaster)->AsFunction(), fo);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->first_row, 5400);
  EXPECT_EQ(report->end_row, 6000);
  EXPECT_EQ(report->positions, 600);

  // The baselines, recomputed from the CSV values (original units): this
  // checks the inverse transform.
  double persistence = 0, seasonal = 0;
  for (int r = 5400; r < 6000; ++r) {
    persistence += std::pow(rows[r - 1][0] - rows[r][0], 2);
    seasonal += std::pow(rows[r - 20][0] - rows[r][0], 2);
  }
  persistence = std::sqrt(persistence / 600);
  seasonal = std::sqrt(seasonal / 600);
  const ForecastColumnMetrics& m = report->columns[0];
  EXPECT_EQ(m.name, "c0");
  EXPECT_NEAR(m.persistence_rmse, persistence, 1e-4 * persistence);
  EXPECT_NEAR(m.seasonal_rmse, seasonal, 1e-4 * seasonal);
  EXPECT_GT(m.persistence_rmse, 0.9);
  EXPECT_LT(m.rmse, 0.6 * m.persistence_rmse) << "model RMSE " << m.rmse;
  EXPECT_LT(m.rmse, 0.6);
  EXPECT_LE(m.mae, m.rmse);

  // The forecasts file: a header and one line per position, actual values
  // in original units.
  std::ifstream in(fo.forecasts_path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "row,c0_actual,c0_forecast,c0_persistence,c0_seasonal");
  ASSERT_TRUE(std::getline(in, line));
  std::stringstream first(line);
  int64_t row = 0;
  char comma = 0;
  double actual = 0;
  first >> row >> comma >> actual;
  EXPECT_EQ(row, 5400);
  EXPECT_NEAR(actual, rows[5400][0], 1e-4);
  int lines = 1;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 600);
}

TEST(ForecastTest, BaselinesOnAHandMadeSeriesAreExact) {
  // Ten rows: train = rows 0-4 (mean 5), valid = 5-6, test = 7-9.
  const std::vector<double> values = {1, 2, 4, 7, 11, 16, 22, 29, 37, 46};
  std::vector<std::vector<double>> rows;
  for (double v : values) rows.push_back({v, 2 * v});
  const std::string csv = WriteCsv("forecast_hand.csv", "a,b", rows);
  const std::string dir = TempPath("forecast_hand");
  SeriesPrepareOptions prep;
  prep.columns = {"a", "b"};
  prep.valid_fraction = 0.2;
  prep.test_fraction = 0.3;
  ASSERT_TRUE(PrepareSeries(csv, dir, prep).ok());
  auto file = SeriesFile::Open(dir + "/series.f32");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ((*file)->split_begin(2), 7);

  // A forecaster of normalised 0, i.e. the train mean (5 and 10).
  int64_t calls = 0;
  SeriesForecaster zero = [&](absl::Span<const float>, absl::Span<float> next) {
    ++calls;
    for (float& v : next) v = 0.f;
    return absl::OkStatus();
  };
  ForecastOptions options;
  options.season = 3;
  options.column_names = {"a", "b"};
  options.warmup_rows = 2;
  auto report = EvaluateSeriesForecasts(**file, 2, zero, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->positions, 3);
  EXPECT_EQ(calls, 2 + 3);  // rows 4, 5 (warm-up), then 6, 7, 8
  const ForecastColumnMetrics& a = report->columns[0];
  // Test rows 29, 37, 46; last values 22, 29, 37; three rows ago 11, 16, 22.
  EXPECT_NEAR(a.persistence_rmse, std::sqrt((49.0 + 64 + 81) / 3), 1e-4);
  EXPECT_NEAR(a.persistence_mae, 8.0, 1e-4);
  EXPECT_NEAR(a.seasonal_rmse, std::sqrt((324.0 + 441 + 576) / 3), 1e-4);
  EXPECT_NEAR(a.seasonal_mae, 21.0, 1e-4);
  EXPECT_NEAR(a.rmse, std::sqrt((576.0 + 1024 + 1681) / 3), 1e-4);
  EXPECT_NEAR(a.mae, 97.0 / 3, 1e-4);
  const ForecastColumnMetrics& b = report->columns[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_NEAR(b.persistence_mae, 16.0, 1e-4);
  EXPECT_NEAR(b.seasonal_rmse, 2 * std::sqrt((324.0 + 441 + 576) / 3), 1e-4);
  EXPECT_NEAR(b.mae, 2 * 97.0 / 3, 1e-4);

  // Without a season: persistence only, on the same rows (row 0 has no
  // last value, so the train split starts at row 1).
  options.season = 0;
  report = EvaluateSeriesForecasts(**file, 0, zero, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->first_row, 1);
  EXPECT_EQ(report->positions, 4);
  EXPECT_NEAR(report->columns[0].persistence_mae, (1.0 + 2 + 3 + 4) / 4, 1e-4);

  // A season longer than the history is an error, not an abort.
  options.season = 11;
  EXPECT_FALSE(EvaluateSeriesForecasts(**file, 2, zero, options).ok());
}

TEST(ForecastTest, MismatchedColumnsAreAnError) {
  std::vector<std::vector<double>> rows;
  for (int t = 0; t < 400; ++t) rows.push_back({1.0 * t, 2.0 * t});
  const std::string csv = WriteCsv("forecast_two.csv", "a,b", rows);
  const std::string dir = TempPath("forecast_two");
  SeriesPrepareOptions prep;
  prep.columns = {"a", "b"};
  ASSERT_TRUE(PrepareSeries(csv, dir, prep).ok());
  Graph graph = BuildGraph(kModel);  // one column
  TrainerOptions options;
  options.data_path = dir;
  auto trainer = Trainer::Create(graph, options);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.status().message().find("FLOAT32 [T, N, 2]"), std::string::npos)
      << trainer.status();
}

// Forecasts normalised 0 (the train mean) at every horizon.
class ZeroPredictor : public SeriesPredictor {
 public:
  explicit ZeroPredictor(int64_t history) : history_(history) {}
  int64_t history() const override { return history_; }
  absl::Status Observe(absl::Span<const float>) override {
    ++observed;
    return absl::OkStatus();
  }
  absl::Status ForecastAhead(int64_t horizon, absl::Span<float> out) override {
    horizons.push_back(horizon);
    for (float& v : out) v = 0.f;
    return absl::OkStatus();
  }
  int64_t observed = 0;
  std::vector<int64_t> horizons;

 private:
  int64_t history_;
};

TEST(ForecastTest, MultiStepBaselinesOnAHandMadeSeriesAreExact) {
  // Rows 0-9; test = rows 7-9 (29, 37, 46).
  const std::vector<double> values = {1, 2, 4, 7, 11, 16, 22, 29, 37, 46};
  std::vector<std::vector<double>> rows;
  for (double v : values) rows.push_back({v});
  const std::string csv = WriteCsv("forecast_steps.csv", "a", rows);
  const std::string dir = TempPath("forecast_steps");
  SeriesPrepareOptions prep;
  prep.columns = {"a"};
  prep.valid_fraction = 0.2;
  prep.test_fraction = 0.3;
  ASSERT_TRUE(PrepareSeries(csv, dir, prep).ok());
  auto file = SeriesFile::Open(dir + "/series.f32");
  ASSERT_TRUE(file.ok()) << file.status();

  ZeroPredictor zero(1);
  ForecastOptions options;
  options.season = 2;
  options.horizon = 3;
  options.column_names = {"a"};
  options.forecasts_path = TempPath("forecast_steps_out.csv");
  auto report = EvaluateSeriesForecasts(**file, 2, zero, options);
  ASSERT_TRUE(report.ok()) << report.status();
  // Origins 6, 7, 8 (every row before a test row), each as far as the split goes.
  EXPECT_EQ(zero.horizons, (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(zero.observed, 9);  // rows 0-8
  ASSERT_EQ(report->horizons.size(), 3u);
  const auto& h1 = report->horizons[0];
  const auto& h2 = report->horizons[1];
  const auto& h3 = report->horizons[2];
  EXPECT_EQ(h1.positions, 3);
  EXPECT_EQ(h2.positions, 2);
  EXPECT_EQ(h3.positions, 1);
  // Persistence: the origin's value at every h.
  EXPECT_NEAR(h1.columns[0].persistence_mae, (7.0 + 8 + 9) / 3, 1e-4);
  EXPECT_NEAR(h2.columns[0].persistence_rmse, std::sqrt((15.0 * 15 + 17 * 17) / 2), 1e-4);
  EXPECT_NEAR(h3.columns[0].persistence_mae, 24.0, 1e-4);  // 46 - 22
  // Seasonal naive (K = 2) from observed rows only: h = 1, 2 one season
  // back (rows 5, 6, 7 and 6, 7), h = 3 two seasons (9 from row 5).
  EXPECT_NEAR(h1.columns[0].seasonal_mae, (13.0 + 15 + 17) / 3, 1e-4);
  EXPECT_NEAR(h2.columns[0].seasonal_mae, (15.0 + 17) / 2, 1e-4);
  EXPECT_NEAR(h3.columns[0].seasonal_mae, 30.0, 1e-4);  // 46 - 16
  // The model (the train mean, 5): horizon 1 is report->columns.
  EXPECT_NEAR(h3.columns[0].mae, 41.0, 1e-4);
  EXPECT_EQ(report->columns[0].rmse, h1.columns[0].rmse);
  EXPECT_EQ(report->positions, 3);

  std::ifstream in(options.forecasts_path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "origin,h,row,a_actual,a_forecast,a_persistence,a_seasonal");
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.substr(0, 6), "6,1,7,");  // then 29, 5, 22, 16 to float precision
  double v[4] = {0, 0, 0, 0};
  char comma = 0;
  std::stringstream fields(line.substr(6));
  fields >> v[0] >> comma >> v[1] >> comma >> v[2] >> comma >> v[3];
  EXPECT_NEAR(v[0], 29, 1e-4);
  EXPECT_NEAR(v[1], 5, 1e-4);
  EXPECT_NEAR(v[2], 22, 1e-4);
  EXPECT_NEAR(v[3], 16, 1e-4);
  int lines = 1;
  std::string last;
  while (std::getline(in, line)) {
    ++lines;
    last = line;
  }
  EXPECT_EQ(lines, 6);
  EXPECT_EQ(last.substr(0, 6), "8,1,9,");

  // A windowed predictor (W = 8) is scored only where a whole window lies
  // before the origin: rows 8, 9 (origins 7, 8).
  ZeroPredictor windowed(8);
  options.forecasts_path.clear();
  report = EvaluateSeriesForecasts(**file, 2, windowed, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->first_row, 8);
  EXPECT_EQ(report->horizons[0].positions, 2);
  EXPECT_EQ(report->horizons[1].positions, 1);
  EXPECT_EQ(report->horizons[2].positions, 0);
  EXPECT_NEAR(report->horizons[0].columns[0].persistence_mae, (8.0 + 9) / 2, 1e-4);

  // A window longer than the history, and a horizon below 1, are errors.
  ZeroPredictor too_long(10);
  auto bad = EvaluateSeriesForecasts(**file, 2, too_long, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("from windows of 10 rows"), std::string::npos)
      << bad.status();
  options.horizon = 0;
  bad = EvaluateSeriesForecasts(**file, 2, zero, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "ForecastOptions::horizon must be >= 1 rows; got 0");
  options.horizon = 1;
  options.season = -2;
  EXPECT_EQ(EvaluateSeriesForecasts(**file, 2, zero, options).status().message(),
            "ForecastOptions::season must be >= 0 rows; got -2");
}

}  // namespace
}  // namespace rnnflow
