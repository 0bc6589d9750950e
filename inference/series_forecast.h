// Forecasts of a prepared series (dataset/series_reader.h) by a predictor
// (inference/series_predictors.h), scored in the ORIGINAL units of the
// columns (x = z * std + mean) beside two baselines computed on exactly the
// same (origin, horizon) pairs:
//
//   persistence     the forecast of row o + h is row o (the last observed)
//   seasonal naive  the forecast of row o + h is row o + h - K ceil(h / K),
//                   the same phase one or more seasons back and never after
//                   o (for h = 1: row o + 1 - K); only when a season K >= 1
//                   is given
//
// The predictor observes the rows one at a time, in time order, from a
// warm-up start before the split (so a recurrent model enters the split
// with a state built from the history, as it would in deployment) to the
// split's second to last row. Forecast origins o are the rows with o + 1 in
// the split and o + 1 >= max(1, K, history) (history: W for a windowed
// model, so every scored forecast saw a whole window); from each origin the
// rows o + 1 .. o + H that lie in the split are forecast and scored, per
// horizon h. Horizon 1 is the one-step-ahead forecast of every scored row.
#ifndef RNNFLOW_INFERENCE_SERIES_FORECAST_H_
#define RNNFLOW_INFERENCE_SERIES_FORECAST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/series_reader.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/inference/series_predictors.h"

namespace rnnflow {

struct ForecastOptions {
  int64_t season = 0;                     // K rows; 0: no seasonal-naive baseline
  int64_t warmup_rows = -1;               // rows fed before the split; -1: all of them
  std::string forecasts_path;             // CSV of every scored position ("": none)
  std::vector<std::string> column_names;  // for the CSV and the report
  int64_t horizon = 1;                    // H: rows forecast from each origin
};

struct ForecastColumnMetrics {
  std::string name;
  double rmse = 0, mae = 0;                          // the forecaster
  double persistence_rmse = 0, persistence_mae = 0;  // last value
  double seasonal_rmse = 0, seasonal_mae = 0;        // when season > 0
};

struct ForecastHorizonMetrics {
  int64_t horizon = 1;    // h
  int64_t positions = 0;  // origins whose row o + h lies in the split
  std::vector<ForecastColumnMetrics> columns;
};

struct ForecastReport {
  int64_t positions = 0;               // scored rows at horizon 1
  int64_t first_row = 0, end_row = 0;  // scored rows [first_row, end_row)
  int64_t season = 0;
  std::vector<ForecastColumnMetrics> columns;    // horizon 1
  std::vector<ForecastHorizonMetrics> horizons;  // h = 1 .. H
};

// Scores `predictor` on split 0 (train), 1 (valid) or 2 (test) of `file`.
// With forecasts_path, writes a CSV with the header
//   row,<c>_actual,<c>_forecast,<c>_persistence[,<c>_seasonal] per column c
// and one line per scored row (`row`: the 0-based index of the row in the
// prepared series, all splits counted); for H > 1 the header starts
// `origin,h,row` and there is one line per (origin, h), origin-major.
absl::StatusOr<ForecastReport> EvaluateSeriesForecasts(const SeriesFile& file, int split,
                                                       SeriesPredictor& predictor,
                                                       const ForecastOptions& options);
// The same for a one-step function (horizon 1 only).
absl::StatusOr<ForecastReport> EvaluateSeriesForecasts(const SeriesFile& file, int split,
                                                       const SeriesForecaster& forecaster,
                                                       const ForecastOptions& options);

// The split index of "train", "valid" or "test".
absl::StatusOr<int> SeriesSplitIndex(const std::string& split);

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_SERIES_FORECAST_H_
