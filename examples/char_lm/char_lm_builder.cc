// The char-LM of model.pbtxt, built with the C++ graph-builder API.
//
//   build/char_lm_char_lm_builder --print                 # the model as text
//   build/char_lm_char_lm_builder --check model.pbtxt     # same model as the file?
//   build/char_lm_char_lm_builder --data corpus.txt [--steps N]   # train it
#include "examples/builder_main.h"
#include "rnnflow/graph/builder.h"

namespace {

absl::StatusOr<rnnflow::ModelDef> BuildCharLm() {
  using rnnflow::GraphBuilder;
  GraphBuilder b("char_lm");
  auto tokens = b.Input("tokens", rnnflow::INT32, {"T", "N"}, rnnflow::TOKENS);
  auto targets = b.Input("targets", rnnflow::INT32, {"T", "N"}, rnnflow::NEXT_TOKENS);
  auto embed = b.Node("embed", "Embedding", {tokens},
                      {{"vocab", 256}, {"dim", 64}, {"init", "normal"}, {"init_scale", 1.0f}});
  auto lstm =
      b.Node("lstm", "LSTM", {embed}, {{"hidden", 256}, {"layers", 2}, {"precision", "bf16"}});
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
  return rnnflow::RunBuilderMain(argc, argv,
                                 [](const rnnflow::ParsedFlags&) { return BuildCharLm(); });
}
