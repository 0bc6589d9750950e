// The forecaster of model.pbtxt, built with the C++ graph-builder API.
//
//   build/forecast_forecast_builder --print                # the model as text
//   build/forecast_forecast_builder --check model.pbtxt    # same model as the file?
//   build/forecast_forecast_builder --data DIR [--steps N]  # train it on a
//                                  # directory from `rnnflow prepare series`
#include <cstdlib>
#include <iostream>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "graph/builder.h"
#include "graph/model_loader.h"
#include "runtime/trainer.h"

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

int Error(const absl::Status& status) {
  std::cerr << status.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto model = BuildForecast();
  if (!model.ok()) return Error(model.status());
  const std::string mode = argc > 1 ? argv[1] : "--print";
  if (mode == "--print") {
    std::cout << rnnflow::ModelToText(*model);
    return 0;
  }
  if (mode == "--check" && argc == 3) {
    auto file = rnnflow::LoadModelFile(argv[2]);
    if (!file.ok()) return Error(file.status());
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    if (!differ.Compare(file->model, *model)) {
      std::cerr << "the builder's model differs from " << argv[2] << ":\n" << diff;
      return 1;
    }
    std::cout << "the builder's model equals " << argv[2] << "\n";
    return 0;
  }
  if (mode == "--data" && argc >= 3) {
    auto graph = rnnflow::Graph::Build(*model, rnnflow::SourceMap("forecast_builder"));
    if (!graph.ok()) return Error(graph.status());
    rnnflow::TrainerOptions options;
    options.data_path = argv[2];
    if (argc == 5 && std::string(argv[3]) == "--steps") options.steps = std::atoll(argv[4]);
    options.log = &std::cout;
    auto trainer = rnnflow::Trainer::Create(*graph, options);
    if (!trainer.ok()) return Error(trainer.status());
    auto run = (*trainer)->Run();
    if (!run.ok()) return Error(run.status());
    return 0;
  }
  std::cerr << "usage: " << argv[0]
            << " [--print | --check MODEL.pbtxt | --data DIR [--steps N]]\n";
  return 2;
}
