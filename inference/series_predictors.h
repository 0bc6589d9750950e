// Forecasters of a prepared series (dataset/series_reader.h), in normalised
// units, behind one interface: observe rows in time order, forecast any
// number of rows after the last one observed. `rnnflow eval` scores them
// (inference/series_forecast.h); `rnnflow predict` prints their forecasts.
//
// A trained model forecasts in one of the two modes it can be trained in:
//
//   stateful (window 0)  the recurrent state carries every row observed
//                        (truncated-BPTT training); row o+1 is the model's
//                        output after feeding row o.
//   windowed (W > 0)     every forecast starts from a zero state and feeds
//                        the last W rows only (windowed training, runtime/
//                        series_windows.h); fewer while fewer were observed.
//
// Multi-step forecasts are iterated: the forecast of row o+h is fed back as
// the input that forecasts row o+h+1 (stateful: from the state after row
// o, restored afterwards; windowed: the window slides over the forecasts,
// so every step is again a fresh run over W rows). We chose iterating over
// a direct H-output head: the same one-step model serves every horizon and
// training needs no horizon-specific targets; its cost is that errors
// compound, which the per-horizon report shows.
#ifndef RNNFLOW_INFERENCE_SERIES_PREDICTORS_H_
#define RNNFLOW_INFERENCE_SERIES_PREDICTORS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"

namespace rnnflow {

class SeriesPredictor {
 public:
  virtual ~SeriesPredictor() = default;
  // Rows that must have been observed before a forecast is complete (and
  // scored): W for a windowed model, 1 otherwise.
  virtual int64_t history() const = 0;
  // The next row of the series (F normalised values).
  virtual absl::Status Observe(absl::Span<const float> row) = 0;
  // Rows +1 .. +horizon after the last observed row into `out` ([horizon,
  // F]); what was observed is left as it was.
  virtual absl::Status ForecastAhead(int64_t horizon, absl::Span<float> out) = 0;
};

// Given row r (normalised, F values), writes the forecast of row r + 1
// (normalised). Called for consecutive rows; may keep state.
using SeriesForecaster =
    std::function<absl::Status(absl::Span<const float> row, absl::Span<float> next)>;

// A one-step function as a predictor (horizon 1 only).
class OneStepPredictor : public SeriesPredictor {
 public:
  OneStepPredictor(SeriesForecaster forecaster, int64_t features)
      : forecaster_(std::move(forecaster)), next_(features) {}
  int64_t history() const override { return 1; }
  absl::Status Observe(absl::Span<const float> row) override;
  absl::Status ForecastAhead(int64_t horizon, absl::Span<float> out) override;

 private:
  SeriesForecaster forecaster_;
  std::vector<float> next_;
  bool observed_ = false;
};

// A model fed SERIES / NEXT_SERIES run one row at a time (T = 1, N = 1,
// state carried). The forecast is the model's first output, or, without
// one, the first input of the node computing the loss; it must hold F
// values per step.
class SeriesModelForecaster {
 public:
  static absl::StatusOr<std::unique_ptr<SeriesModelForecaster>> Create(const Graph& graph,
                                                                       int64_t features);
  // Load parameters into these before forecasting.
  const std::vector<Tensor>& params() const { return session_->params(); }
  // Feeds `row`, writes the output (the forecast of the next row) and
  // carries the state.
  absl::Status Forecast(absl::Span<const float> row, absl::Span<float> next);
  SeriesForecaster AsFunction() {
    return
        [this](absl::Span<const float> row, absl::Span<float> next) { return Forecast(row, next); };
  }
  // The carried state: zeroed, saved, restored.
  void ResetState() { session_->ResetStates(); }
  std::vector<std::vector<float>> SaveState() const;
  void RestoreState(const std::vector<std::vector<float>>& saved);

 private:
  std::unique_ptr<Session> session_;
  int input_ = -1, target_ = -1, output_ = -1;
  int64_t features_ = 0;
};

// A trained model as a predictor: window 0 stateful, W > 0 windowed (above).
class ModelSeriesPredictor : public SeriesPredictor {
 public:
  static absl::StatusOr<std::unique_ptr<ModelSeriesPredictor>> Create(const Graph& graph,
                                                                      int64_t features,
                                                                      int64_t window);
  const std::vector<Tensor>& params() const { return step_->params(); }
  int64_t window() const { return window_; }
  int64_t history() const override { return window_ > 0 ? window_ : 1; }
  absl::Status Observe(absl::Span<const float> row) override;
  absl::Status ForecastAhead(int64_t horizon, absl::Span<float> out) override;

 private:
  std::unique_ptr<SeriesModelForecaster> step_;
  int64_t window_ = 0, features_ = 0;
  std::vector<float> next_;  // stateful: the forecast after the last row
  bool observed_ = false;
  std::deque<std::vector<float>> recent_;  // windowed: the last W rows
};

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_SERIES_PREDICTORS_H_
