// The sentiment classifiers of examples/sentiment, built with the C++
// graph-builder API: model.pbtxt (BuildSentiment) and imdb.pbtxt
// (BuildImdbSentiment). tests/sentiment_example_test.cc checks that the
// files are these models.
#ifndef RNNFLOW_EXAMPLES_SENTIMENT_SENTIMENT_MODELS_H_
#define RNNFLOW_EXAMPLES_SENTIMENT_SENTIMENT_MODELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/graph/builder.h"

namespace rnnflow::sentiment {

// The inputs every sentiment model reads from `rnnflow prepare examples`.
struct SentimentInputs {
  TensorRef tokens, lengths, label, weight;
};

inline SentimentInputs AddSentimentInputs(GraphBuilder& b) {
  return {b.Input("tokens", INT32, {"T", "N"}, EXAMPLE_TOKENS),
          b.Input("lengths", INT32, {"N"}, EXAMPLE_LENGTHS),
          b.Input("label", FLOAT32, {"1", "N", "1"}, EXAMPLE_LABEL),
          b.Input("weight", FLOAT32, {"1", "N", "1"}, EXAMPLE_WEIGHTS)};
}

inline void SetSentimentTraining(GraphBuilder& b, int64_t truncation_steps, int64_t steps) {
  TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.set_clip_global_norm(5);
  t.set_truncation_steps(truncation_steps);
  t.set_streams_per_worker(32);
  t.set_steps(steps);
  t.set_seed(7);
}

// model.pbtxt: tokens -> Embedding 64 -> LSTM 64 -> final state h_n ->
// Dense(1) -> logit; sigmoid cross-entropy against the 0/1 label, weighted
// (masked) per example.
inline absl::StatusOr<ModelDef> BuildSentiment() {
  GraphBuilder b("sentiment_lstm");
  const SentimentInputs in = AddSentimentInputs(b);
  auto embed = b.Node("embed", "Embedding", {in.tokens}, {{"vocab", 20000}, {"dim", 64}});
  auto none = TensorRef::Absent();
  auto lstm = b.Node("lstm", "LSTM", {embed, none, none, in.lengths}, {{"hidden", 64}});
  auto logit = b.Node("logit", "Dense", {lstm.out("h_n")}, {{"units", 1}});
  auto loss = b.Node("loss", "SigmoidCrossEntropy", {logit, in.label, in.weight});
  b.Output(logit);
  b.Loss(loss);
  SetSentimentTraining(b, 64, 600);
  return b.Build();
}

// imdb.pbtxt, tuned on IMDB's validation split (README.md): Embedding 64 ->
// Dropout (one mask per review, shared by all its words) -> bidirectional
// LSTM 64 over each review's length -> the maximum and the mean of its
// outputs over the review's steps -> Dropout -> Dense(1); T = 400. The LSTM
// computes in bfloat16.
inline absl::StatusOr<ModelDef> BuildImdbSentiment() {
  GraphBuilder b("sentiment_bilstm_pool");
  const SentimentInputs in = AddSentimentInputs(b);
  auto embed = b.Node("embed", "Embedding", {in.tokens}, {{"vocab", 20000}, {"dim", 64}});
  auto embed_drop = b.Node("embed_drop", "Dropout", {embed},
                           {{"rate", 0.5f}, {"shared_axes", std::vector<int64_t>{0}}});
  auto none = TensorRef::Absent();
  auto lstm = b.Node("lstm", "LSTM", {embed_drop, none, none, in.lengths},
                     {{"hidden", 64}, {"direction", "bidirectional"}, {"precision", "bf16"}});
  auto max = b.Node("max", "MaxOverTime", {lstm, in.lengths});
  auto mean = b.Node("mean", "MeanOverTime", {lstm, in.lengths});
  auto pooled = b.Node("pooled", "Concat", {max, mean});
  auto pooled_drop = b.Node("pooled_drop", "Dropout", {pooled}, {{"rate", 0.5f}});
  auto logit = b.Node("logit", "Dense", {pooled_drop}, {{"units", 1}});
  auto loss = b.Node("loss", "SigmoidCrossEntropy", {logit, in.label, in.weight});
  b.Output(logit);
  b.Loss(loss);
  SetSentimentTraining(b, 400, 2500);
  return b.Build();
}

}  // namespace rnnflow::sentiment

#endif  // RNNFLOW_EXAMPLES_SENTIMENT_SENTIMENT_MODELS_H_
