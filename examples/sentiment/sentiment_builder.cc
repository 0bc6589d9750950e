// The sentiment classifier of model.pbtxt, built with the C++ graph-builder
// API.
//
//   build/sentiment_sentiment_builder --print               # the model as text
//   build/sentiment_sentiment_builder --check model.pbtxt   # same model as the file?
//   build/sentiment_sentiment_builder --data DIR [--steps N] # train it on a
//                                  # directory from `rnnflow prepare examples`
#include "examples/builder_main.h"
#include "graph/builder.h"

namespace {

// tokens -> Embedding 64 -> LSTM 64 -> final state h_n -> Dense(1) -> logit;
// sigmoid cross-entropy against the 0/1 label, weighted (masked) per example.
absl::StatusOr<rnnflow::ModelDef> BuildSentiment() {
  using rnnflow::GraphBuilder;
  GraphBuilder b("sentiment_lstm");
  auto tokens = b.Input("tokens", rnnflow::INT32, {"T", "N"}, rnnflow::EXAMPLE_TOKENS);
  auto lengths = b.Input("lengths", rnnflow::INT32, {"N"}, rnnflow::EXAMPLE_LENGTHS);
  auto label = b.Input("label", rnnflow::FLOAT32, {"1", "N", "1"}, rnnflow::EXAMPLE_LABEL);
  auto weight = b.Input("weight", rnnflow::FLOAT32, {"1", "N", "1"}, rnnflow::EXAMPLE_WEIGHTS);
  auto embed = b.Node("embed", "Embedding", {tokens}, {{"vocab", 20000}, {"dim", 64}});
  auto none = rnnflow::TensorRef::Absent();
  auto lstm = b.Node("lstm", "LSTM", {embed, none, none, lengths}, {{"hidden", 64}});
  auto logit = b.Node("logit", "Dense", {lstm.out("h_n")}, {{"units", 1}});
  auto loss = b.Node("loss", "SigmoidCrossEntropy", {logit, label, weight});
  b.Output(logit);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.set_clip_global_norm(5);
  t.set_truncation_steps(64);
  t.set_streams_per_worker(32);
  t.set_steps(600);
  t.set_seed(7);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) { return rnnflow::RunBuilderMain(argc, argv, BuildSentiment()); }
