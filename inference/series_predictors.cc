#include "rnnflow/inference/series_predictors.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::Status OneStepPredictor::Observe(absl::Span<const float> row) {
  std::fill(next_.begin(), next_.end(), 0.f);
  RF_RETURN_IF_ERROR(forecaster_(row, absl::MakeSpan(next_)));
  observed_ = true;
  return absl::OkStatus();
}

absl::Status OneStepPredictor::ForecastAhead(int64_t horizon, absl::Span<float> out) {
  if (horizon != 1) {
    return absl::InvalidArgumentError(
        "a one-step forecaster function forecasts one row ahead only");
  }
  if (!observed_) return absl::FailedPreconditionError("no row observed yet");
  std::copy(next_.begin(), next_.end(), out.begin());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SeriesModelForecaster>> SeriesModelForecaster::Create(
    const Graph& graph, int64_t features) {
  std::unique_ptr<SeriesModelForecaster> f(new SeriesModelForecaster());
  f->features_ = features;
  for (int id : graph.graph_inputs()) {
    const Feed feed = graph.model().input(graph.tensor(id).index).feed();
    if (feed == SERIES) f->input_ = id;
    if (feed == NEXT_SERIES) f->target_ = id;
  }
  if (f->input_ < 0) {
    return absl::InvalidArgumentError(
        "forecasting a series needs a model with a graph input fed `SERIES`");
  }
  if (graph.model().output_size() > 0) {
    f->output_ = graph.FindTensor(graph.model().output(0));
  } else if (graph.loss() >= 0) {
    for (const NodeInfo& node : graph.nodes()) {
      if (std::find(node.outputs.begin(), node.outputs.end(), graph.loss()) != node.outputs.end() &&
          !node.inputs.empty()) {
        f->output_ = node.inputs[0];
      }
    }
  }
  if (f->output_ < 0) {
    return absl::InvalidArgumentError(
        "the model names no output (and its loss has no prediction input) to forecast with");
  }
  SessionOptions so;
  so.bindings = {{"T", 1}, {"N", 1}};
  so.training = false;
  RF_ASSIGN_OR_RETURN(f->session_, Session::Create(graph, so));
  for (int id : {f->input_, f->target_, f->output_}) {
    if (id < 0) continue;
    const Tensor t = f->session_->value(id);
    if (t.num_elements() != features) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", graph.tensor(id).name, "' holds ", t.num_elements(),
          " values per step; the series has ", features, " column", features == 1 ? "" : "s"));
    }
  }
  return f;
}

absl::Status SeriesModelForecaster::Forecast(absl::Span<const float> row, absl::Span<float> next) {
  if (static_cast<int64_t>(row.size()) != features_ ||
      static_cast<int64_t>(next.size()) != features_) {
    return absl::InvalidArgumentError("the row does not have the model's number of columns");
  }
  Tensor in = session_->value(input_);
  std::copy(row.begin(), row.end(), in.f32());
  if (target_ >= 0) {
    Tensor t = session_->value(target_);
    std::fill(t.f32(), t.f32() + t.num_elements(), 0.f);
  }
  RF_RETURN_IF_ERROR(session_->Forward());
  const Tensor out = session_->value(output_);
  std::copy(out.f32(), out.f32() + features_, next.begin());
  session_->CarryStates();
  return absl::OkStatus();
}

std::vector<std::vector<float>> SeriesModelForecaster::SaveState() const {
  std::vector<std::vector<float>> saved;
  for (const Tensor& t : session_->carried_states()) {
    saved.emplace_back(t.f32(), t.f32() + t.num_elements());
  }
  return saved;
}

void SeriesModelForecaster::RestoreState(const std::vector<std::vector<float>>& saved) {
  const std::vector<Tensor>& carried = session_->carried_states();
  for (size_t k = 0; k < saved.size() && k < carried.size(); ++k) {
    std::copy(saved[k].begin(), saved[k].end(), carried[k].f32());
  }
}

absl::StatusOr<std::unique_ptr<ModelSeriesPredictor>> ModelSeriesPredictor::Create(
    const Graph& graph, int64_t features, int64_t window) {
  if (window < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ModelSeriesPredictor's window must be >= 1 rows (0: stateful); got ", window));
  }
  std::unique_ptr<ModelSeriesPredictor> p(new ModelSeriesPredictor());
  RF_ASSIGN_OR_RETURN(p->step_, SeriesModelForecaster::Create(graph, features));
  p->window_ = window;
  p->features_ = features;
  p->next_.resize(features);
  return p;
}

absl::Status ModelSeriesPredictor::Observe(absl::Span<const float> row) {
  if (static_cast<int64_t>(row.size()) != features_) {
    return absl::InvalidArgumentError("the row does not have the model's number of columns");
  }
  observed_ = true;
  if (window_ == 0) return step_->Forecast(row, absl::MakeSpan(next_));
  recent_.emplace_back(row.begin(), row.end());
  if (static_cast<int64_t>(recent_.size()) > window_) recent_.pop_front();
  return absl::OkStatus();
}

absl::Status ModelSeriesPredictor::ForecastAhead(int64_t horizon, absl::Span<float> out) {
  const int64_t f = features_;
  if (horizon < 1 || static_cast<int64_t>(out.size()) < horizon * f) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot forecast ", horizon, " rows into ", out.size(), " values"));
  }
  if (!observed_) return absl::FailedPreconditionError("no row observed yet");
  if (window_ == 0) {
    // Iterate from the state after the last row, then put that state back.
    std::copy(next_.begin(), next_.end(), out.begin());
    if (horizon == 1) return absl::OkStatus();
    const std::vector<std::vector<float>> saved = step_->SaveState();
    for (int64_t h = 1; h < horizon; ++h) {
      const absl::Span<const float> in(out.data() + (h - 1) * f, f);
      if (auto st = step_->Forecast(in, out.subspan(h * f, f)); !st.ok()) {
        step_->RestoreState(saved);
        return st;
      }
    }
    step_->RestoreState(saved);
    return absl::OkStatus();
  }
  // Windowed: each step a fresh run over the newest W rows (observed rows,
  // then forecasts as they are made).
  std::deque<std::vector<float>> rows = recent_;
  std::vector<float> next(f);
  for (int64_t h = 0; h < horizon; ++h) {
    step_->ResetState();
    for (const std::vector<float>& row : rows) {
      RF_RETURN_IF_ERROR(step_->Forecast(row, absl::MakeSpan(next)));
    }
    std::copy(next.begin(), next.end(), out.begin() + h * f);
    rows.push_back(next);
    if (static_cast<int64_t>(rows.size()) > window_) rows.pop_front();
  }
  return absl::OkStatus();
}

}  // namespace rnnflow
