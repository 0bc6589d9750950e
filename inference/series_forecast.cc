#include "rnnflow/inference/series_forecast.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

// Sums of squared and absolute errors.
struct ErrorSums {
  double squared = 0, absolute = 0;
  void Add(double error) {
    squared += error * error;
    absolute += std::abs(error);
  }
  double Rmse(int64_t n) const { return n > 0 ? std::sqrt(squared / n) : 0; }
  double Mae(int64_t n) const { return n > 0 ? absolute / n : 0; }
};

}  // namespace

absl::StatusOr<int> SeriesSplitIndex(const std::string& split) {
  if (split == "train") return 0;
  if (split == "valid") return 1;
  if (split == "test") return 2;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown split '", split, "' (expected train, valid or test)"));
}

absl::StatusOr<ForecastReport> EvaluateSeriesForecasts(const SeriesFile& file, int split,
                                                       SeriesPredictor& predictor,
                                                       const ForecastOptions& options) {
  if (split < 0 || split > 2) return absl::InvalidArgumentError("split must be 0, 1 or 2");
  if (options.season < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ForecastOptions::season must be >= 0 rows; got ", options.season));
  }
  if (options.horizon < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ForecastOptions::horizon must be >= 1 rows; got ", options.horizon));
  }
  const int64_t f = file.columns();
  const int64_t H = options.horizon, K = options.season;
  const int64_t history = std::max<int64_t>(1, predictor.history());
  const int64_t begin = file.split_begin(split);
  const int64_t end = begin + file.split_rows(split);
  ForecastReport report;
  report.season = K;
  report.first_row = std::max<int64_t>({begin, 1, K, history});
  report.end_row = end;
  if (report.first_row >= end) {
    return absl::InvalidArgumentError(
        absl::StrCat("the split of rows [", begin, ", ", end, ") has no row to forecast",
                     K > 0 ? absl::StrCat(" with a season of ", K, " rows") : "",
                     history > 1 ? absl::StrCat(" from windows of ", history, " rows") : ""));
  }
  int64_t start = options.warmup_rows < 0
                      ? 0
                      : std::max<int64_t>(0, report.first_row - 1 - options.warmup_rows);
  start = std::min(start, report.first_row - history);  // a whole window before the first

  std::vector<std::string> names = options.column_names;
  for (int64_t c = static_cast<int64_t>(names.size()); c < f; ++c) {
    names.push_back(absl::StrCat("c", c));
  }
  std::ofstream csv;
  if (!options.forecasts_path.empty()) {
    csv.open(options.forecasts_path, std::ios::trunc);
    if (!csv) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.forecasts_path, ": cannot open for writing"));
    }
    csv << (H > 1 ? "origin,h,row" : "row");
    for (int64_t c = 0; c < f; ++c) {
      csv << "," << names[c] << "_actual," << names[c] << "_forecast," << names[c]
          << "_persistence";
      if (K > 0) csv << "," << names[c] << "_seasonal";
    }
    csv << "\n";
  }

  // Error sums per horizon and column: [h * f + c].
  std::vector<ErrorSums> model(H * f), persistence(H * f), seasonal(H * f);
  std::vector<int64_t> counts(H, 0);
  std::vector<float> ahead(H * f);
  for (int64_t o = start; o + 1 < end; ++o) {
    RF_RETURN_IF_ERROR(predictor.Observe(absl::Span<const float>(file.data() + o * f, f)));
    if (o + 1 < report.first_row) continue;
    const int64_t steps = std::min(H, end - 1 - o);
    std::fill(ahead.begin(), ahead.end(), 0.f);
    RF_RETURN_IF_ERROR(predictor.ForecastAhead(steps, absl::MakeSpan(ahead.data(), steps * f)));
    for (int64_t h = 1; h <= steps; ++h) {
      const int64_t target = o + h;
      // One or more whole seasons back, never past the origin.
      const int64_t season_row = K > 0 ? target - K * ((h + K - 1) / K) : -1;
      ++counts[h - 1];
      if (csv.is_open()) {
        if (H > 1) csv << o << "," << h << ",";
        csv << target;
      }
      for (int64_t c = 0; c < f; ++c) {
        const double actual = file.Denormalize(c, file.at(target, c));
        const double forecast = file.Denormalize(c, ahead[(h - 1) * f + c]);
        const double last = file.Denormalize(c, file.at(o, c));
        const int64_t k = (h - 1) * f + c;
        model[k].Add(forecast - actual);
        persistence[k].Add(last - actual);
        double season_ago = 0;
        if (K > 0) {
          season_ago = file.Denormalize(c, file.at(season_row, c));
          seasonal[k].Add(season_ago - actual);
        }
        if (csv.is_open()) {
          csv << absl::StrFormat(",%.9g,%.9g,%.9g", actual, forecast, last);
          if (K > 0) csv << absl::StrFormat(",%.9g", season_ago);
        }
      }
      if (csv.is_open()) csv << "\n";
    }
  }
  if (csv.is_open()) {
    csv.close();
    if (!csv) {
      return absl::DataLossError(absl::StrCat(options.forecasts_path, ": write failed"));
    }
  }
  for (int64_t h = 1; h <= H; ++h) {
    ForecastHorizonMetrics hm;
    hm.horizon = h;
    const int64_t n = hm.positions = counts[h - 1];
    for (int64_t c = 0; c < f; ++c) {
      const int64_t k = (h - 1) * f + c;
      ForecastColumnMetrics m;
      m.name = names[c];
      m.rmse = model[k].Rmse(n);
      m.mae = model[k].Mae(n);
      m.persistence_rmse = persistence[k].Rmse(n);
      m.persistence_mae = persistence[k].Mae(n);
      m.seasonal_rmse = seasonal[k].Rmse(n);
      m.seasonal_mae = seasonal[k].Mae(n);
      hm.columns.push_back(m);
    }
    report.horizons.push_back(std::move(hm));
  }
  report.positions = report.horizons[0].positions;
  report.columns = report.horizons[0].columns;
  return report;
}

absl::StatusOr<ForecastReport> EvaluateSeriesForecasts(const SeriesFile& file, int split,
                                                       const SeriesForecaster& forecaster,
                                                       const ForecastOptions& options) {
  OneStepPredictor predictor(forecaster, file.columns());
  return EvaluateSeriesForecasts(file, split, predictor, options);
}

}  // namespace rnnflow
