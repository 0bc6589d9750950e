// The tagger of model.pbtxt, built with the C++ graph-builder API.
//
//   build/bidirectional_tagger_bidirectional_tagger_builder --print               # as text
//   build/bidirectional_tagger_bidirectional_tagger_builder --check model.pbtxt   # same model?
//   build/bidirectional_tagger_bidirectional_tagger_builder --data DIR [--steps N]
#include "examples/builder_main.h"
#include "rnnflow/graph/builder.h"

namespace {

absl::StatusOr<rnnflow::ModelDef> BuildTagger() {
  using rnnflow::GraphBuilder;
  using rnnflow::TensorRef;
  GraphBuilder b("bidirectional_tagger");
  auto tokens = b.Input("tokens", rnnflow::INT32, {"T", "N"}, rnnflow::EXAMPLE_TOKENS);
  auto lengths = b.Input("lengths", rnnflow::INT32, {"N"}, rnnflow::EXAMPLE_LENGTHS);
  auto tags = b.Input("tags", rnnflow::INT32, {"T", "N"}, rnnflow::EXAMPLE_TAGS);
  auto embed = b.Node("embed", "Embedding", {tokens},
                      {{"vocab", 20000}, {"dim", 64}, {"init", "normal"}, {"init_scale", 1.0f}});
  // x, h0 (absent), c0 (absent), lengths.
  auto bilstm = b.Node("bilstm", "LSTM", {embed, TensorRef::Absent(), TensorRef::Absent(), lengths},
                       {{"hidden", 128}, {"direction", "bidirectional"}});
  auto logits = b.Node("logits", "Dense", {bilstm}, {{"units", 232}});
  auto loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, tags});
  b.Output(logits);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.set_clip_global_norm(5);
  t.set_truncation_steps(80);
  t.set_streams_per_worker(32);
  t.set_steps(1500);
  t.set_seed(1);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(argc, argv,
                                 [](const rnnflow::ParsedFlags&) { return BuildTagger(); });
}
