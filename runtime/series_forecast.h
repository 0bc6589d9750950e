// One-step-ahead forecasts of a prepared series (runtime/series_reader.h),
// scored in the ORIGINAL units of the columns (x = z * std + mean) beside
// two baselines computed on exactly the same positions:
//
//   persistence     the forecast of row r is row r - 1 (the last value)
//   seasonal naive  the forecast of row r is row r - K (one season ago),
//                   only when a season K >= 1 is given
//
// The forecaster reads the rows one at a time, in time order, from a warm-up
// start before the split (so a recurrent model enters the split with a state
// built from the history, as it would in deployment) to the split's second
// to last row. The scored positions are the rows r of the split with
// r >= max(1, K); each is forecast from row r - 1, which may lie in the
// split before (it is known history at forecast time).
#ifndef RNNFLOW_RUNTIME_SERIES_FORECAST_H_
#define RNNFLOW_RUNTIME_SERIES_FORECAST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "runtime/series_reader.h"
#include "runtime/session.h"

namespace rnnflow {

// Given row r (normalised, F values), writes the forecast of row r + 1
// (normalised). Called for consecutive rows; may keep state.
using SeriesForecaster =
    std::function<absl::Status(absl::Span<const float> row, absl::Span<float> next)>;

struct ForecastOptions {
  int64_t season = 0;          // K rows; 0: no seasonal-naive baseline
  int64_t warmup_rows = -1;    // rows fed before the split; -1: all of them
  std::string forecasts_path;  // CSV of every scored position ("": none)
  std::vector<std::string> column_names;  // for the CSV and the report
};

struct ForecastColumnMetrics {
  std::string name;
  double rmse = 0, mae = 0;                          // the forecaster
  double persistence_rmse = 0, persistence_mae = 0;  // last value
  double seasonal_rmse = 0, seasonal_mae = 0;        // when season > 0
};

struct ForecastReport {
  int64_t positions = 0;              // scored rows
  int64_t first_row = 0, end_row = 0;  // scored rows [first_row, end_row)
  int64_t season = 0;
  std::vector<ForecastColumnMetrics> columns;
};

// Scores `forecaster` on split 0 (train), 1 (valid) or 2 (test) of `file`.
// With forecasts_path, writes a CSV with the header
//   row,<c>_actual,<c>_forecast,<c>_persistence[,<c>_seasonal] per column c
// and one line per scored row (`row`: the 0-based index of the row in the
// prepared series, all splits counted).
absl::StatusOr<ForecastReport> EvaluateSeriesForecasts(const SeriesFile& file, int split,
                                                       const SeriesForecaster& forecaster,
                                                       const ForecastOptions& options);

// A forecaster running a model fed SERIES / NEXT_SERIES one row at a time
// (T = 1, N = 1, state carried). The forecast is the model's first output,
// or, without one, the first input of the node computing the loss; it must
// hold F values per step.
class SeriesModelForecaster {
 public:
  static absl::StatusOr<std::unique_ptr<SeriesModelForecaster>> Create(const Graph& graph,
                                                                       int64_t features);
  // Load parameters into these before forecasting.
  const std::vector<Tensor>& params() const { return session_->params(); }
  absl::Status Forecast(absl::Span<const float> row, absl::Span<float> next);
  SeriesForecaster AsFunction() {
    return [this](absl::Span<const float> row, absl::Span<float> next) {
      return Forecast(row, next);
    };
  }

 private:
  std::unique_ptr<Session> session_;
  int input_ = -1, target_ = -1, output_ = -1;
  int64_t features_ = 0;
};

// The split index of "train", "valid" or "test".
absl::StatusOr<int> SeriesSplitIndex(const std::string& split);

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_SERIES_FORECAST_H_
