#include "runtime/series_forecast.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/status_macros.h"

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
                                                       const SeriesForecaster& forecaster,
                                                       const ForecastOptions& options) {
  if (split < 0 || split > 2) return absl::InvalidArgumentError("split must be 0, 1 or 2");
  if (options.season < 0) return absl::InvalidArgumentError("the season must be >= 0 rows");
  const int64_t f = file.columns();
  const int64_t begin = file.split_begin(split);
  const int64_t end = begin + file.split_rows(split);
  ForecastReport report;
  report.season = options.season;
  report.first_row = std::max<int64_t>({begin, 1, options.season});
  report.end_row = end;
  if (report.first_row >= end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the split of rows [", begin, ", ", end, ") has no row to forecast",
        options.season > 0 ? absl::StrCat(" with a season of ", options.season, " rows") : ""));
  }
  const int64_t start = options.warmup_rows < 0
                            ? 0
                            : std::max<int64_t>(0, report.first_row - 1 - options.warmup_rows);

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
    csv << "row";
    for (int64_t c = 0; c < f; ++c) {
      csv << "," << names[c] << "_actual," << names[c] << "_forecast," << names[c]
          << "_persistence";
      if (options.season > 0) csv << "," << names[c] << "_seasonal";
    }
    csv << "\n";
  }

  std::vector<ErrorSums> model(f), persistence(f), seasonal(f);
  std::vector<float> next(f);
  for (int64_t r = start; r + 1 < end; ++r) {
    const absl::Span<const float> row(file.data() + r * f, f);
    std::fill(next.begin(), next.end(), 0.f);
    RF_RETURN_IF_ERROR(forecaster(row, absl::MakeSpan(next)));
    const int64_t target = r + 1;
    if (target < report.first_row) continue;
    ++report.positions;
    if (csv.is_open()) csv << target;
    for (int64_t c = 0; c < f; ++c) {
      const double actual = file.Denormalize(c, file.at(target, c));
      const double forecast = file.Denormalize(c, next[c]);
      const double last = file.Denormalize(c, file.at(r, c));
      model[c].Add(forecast - actual);
      persistence[c].Add(last - actual);
      double season_ago = 0;
      if (options.season > 0) {
        season_ago = file.Denormalize(c, file.at(target - options.season, c));
        seasonal[c].Add(season_ago - actual);
      }
      if (csv.is_open()) {
        csv << absl::StrFormat(",%.9g,%.9g,%.9g", actual, forecast, last);
        if (options.season > 0) csv << absl::StrFormat(",%.9g", season_ago);
      }
    }
    if (csv.is_open()) csv << "\n";
  }
  if (csv.is_open()) {
    csv.close();
    if (!csv) {
      return absl::DataLossError(absl::StrCat(options.forecasts_path, ": write failed"));
    }
  }
  const int64_t n = report.positions;
  for (int64_t c = 0; c < f; ++c) {
    ForecastColumnMetrics m;
    m.name = names[c];
    m.rmse = model[c].Rmse(n);
    m.mae = model[c].Mae(n);
    m.persistence_rmse = persistence[c].Rmse(n);
    m.persistence_mae = persistence[c].Mae(n);
    m.seasonal_rmse = seasonal[c].Rmse(n);
    m.seasonal_mae = seasonal[c].Mae(n);
    report.columns.push_back(m);
  }
  return report;
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
      if (std::find(node.outputs.begin(), node.outputs.end(), graph.loss()) !=
              node.outputs.end() &&
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

absl::Status SeriesModelForecaster::Forecast(absl::Span<const float> row,
                                             absl::Span<float> next) {
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

}  // namespace rnnflow
