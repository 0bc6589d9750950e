// The char-LM of model.pbtxt, built with the C++ graph-builder API.
//
//   build/char_lm_char_lm_builder --print                 # the model as text
//   build/char_lm_char_lm_builder --check model.pbtxt     # same model as the file?
//   build/char_lm_char_lm_builder --data corpus.txt [--steps N]   # train it
#include <iostream>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "graph/builder.h"
#include "graph/model_loader.h"
#include "runtime/trainer.h"

namespace {

absl::StatusOr<rnnflow::ModelDef> BuildCharLm() {
  using rnnflow::GraphBuilder;
  GraphBuilder b("char_lm");
  auto tokens = b.Input("tokens", rnnflow::INT32, {"T", "N"}, rnnflow::TOKENS);
  auto targets = b.Input("targets", rnnflow::INT32, {"T", "N"}, rnnflow::NEXT_TOKENS);
  auto embed = b.Node("embed", "Embedding", {tokens},
                      {{"vocab", 256}, {"dim", 64}, {"init", "normal"}, {"init_scale", 1.0f}});
  auto lstm = b.Node("lstm", "LSTM", {embed}, {{"hidden", 256}, {"layers", 2}});
  auto logits = b.Node("logits", "Dense", {lstm}, {{"units", 256}});
  auto loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, targets});
  b.Output(logits);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.002f);
  t.mutable_learning_rate()->set_schedule("constant");
  t.set_clip_global_norm(5);
  t.set_truncation_steps(128);
  t.set_streams_per_worker(64);
  t.set_steps(300);
  t.set_seed(1);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) {
  auto model = BuildCharLm();
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return 1;
  }
  const std::string mode = argc > 1 ? argv[1] : "--print";
  if (mode == "--print") {
    std::cout << rnnflow::ModelToText(*model);
    return 0;
  }
  if (mode == "--check" && argc == 3) {
    auto file = rnnflow::LoadModelFile(argv[2]);
    if (!file.ok()) {
      std::cerr << file.status().message() << "\n";
      return 1;
    }
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
    auto graph = rnnflow::Graph::Build(*model, rnnflow::SourceMap("char_lm_builder"));
    if (!graph.ok()) {
      std::cerr << graph.status().message() << "\n";
      return 1;
    }
    rnnflow::TrainerOptions options;
    options.data_path = argv[2];
    if (argc == 5 && std::string(argv[3]) == "--steps") options.steps = std::atoll(argv[4]);
    options.log = &std::cout;
    auto trainer = rnnflow::Trainer::Create(*graph, options);
    if (!trainer.ok()) {
      std::cerr << trainer.status().message() << "\n";
      return 1;
    }
    auto run = (*trainer)->Run();
    if (!run.ok()) {
      std::cerr << run.status().message() << "\n";
      return 1;
    }
    return 0;
  }
  std::cerr << "usage: " << argv[0]
            << " [--print | --check MODEL.pbtxt | --data CORPUS [--steps N]]\n";
  return 2;
}
