// The forecaster of model.pbtxt, built with the C++ graph-builder API.
//
//   build/forecast_forecast_builder --print                # the model as text
//   build/forecast_forecast_builder --check model.pbtxt    # same model as the file?
//   build/forecast_forecast_builder --data DIR [--steps N]  # train it on a
//                                  # directory from `rnnflow prepare series`
#include "examples/builder_main.h"
#include "rnnflow/graph/builder.h"

namespace {

// x_t -> LSTM 1 x 32 -> Dense(1) = change; forecast = x_t + change.
absl::StatusOr<rnnflow::ModelDef> BuildForecast() {
  using rnnflow::GraphBuilder;
  GraphBuilder b("forecast");
  auto series = b.Input("series", rnnflow::FLOAT32, {"T", "N", "1"}, rnnflow::SERIES);
  auto next = b.Input("next", rnnflow::FLOAT32, {"T", "N", "1"}, rnnflow::NEXT_SERIES);
  auto lstm = b.Node("lstm", "LSTM", {series}, {{"hidden", 32}, {"layers", 1}});
  auto change = b.Node("change", "Dense", {lstm}, {{"units", 1}});
  auto forecast = b.Node("forecast", "Add", {series, change});
  auto loss = b.Node("loss", "MeanSquaredError", {forecast, next});
  b.Output(forecast);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.mutable_learning_rate()->set_schedule("cosine");
  t.mutable_learning_rate()->set_min(0.0003f);
  t.set_clip_global_norm(1);
  t.set_truncation_steps(16);
  t.set_streams_per_worker(8);
  t.set_steps(600);
  t.set_seed(1);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(argc, argv,
                                 [](const rnnflow::ParsedFlags&) { return BuildForecast(); });
}
