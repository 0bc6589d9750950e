// The name generator of examples/one_to_many: one input (a gender) -> a
// sequence (a first name, letter by letter, then </s>).
//
//   next-letter logits_t = Dense(LSTM(Embedding(letter_{t-1}) + Dense(gender)))
//
// The gender (0 female, 1 male: the prepared label, fed as a float) is turned
// into a 32-wide vector that is added to the input of every step, so the
// generator sees its condition at every step, and the step graph compiled for
// T = 1 (inference/generator.h) needs no special first step. Step 0's input is
// <s>; teacher forcing: the input at step t is the true letter t - 1, the
// target (the prepared tags) the true letter t, </s> after the last one.
// `unconditioned` drops the gender input: the baseline the README compares
// with, trained on the same prepared directory.
#ifndef RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_MODEL_H_
#define RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_MODEL_H_

#include "absl/status/statusor.h"
#include "rnnflow/graph/builder.h"

namespace rnnflow::one_to_many {

// Input vocabulary rows (<pad>, <unk>, <s>, a-z, '-' = 30 used) and output
// classes (a-z, '-', </s>: the prepared tags.tsv).
inline constexpr int64_t kInputVocab = 32;
inline constexpr int64_t kOutputs = 28;
inline constexpr int64_t kEmbed = 32, kHidden = 128;

inline absl::StatusOr<ModelDef> BuildNamesModel(bool conditioned) {
  GraphBuilder b(conditioned ? "names_by_gender" : "names_unconditioned");
  auto letters = b.Input("letters", INT32, {"T", "N"}, EXAMPLE_TOKENS);
  TensorRef gender;
  if (conditioned) gender = b.Input("gender", FLOAT32, {"N", 1}, EXAMPLE_LABEL);
  auto next = b.Input("next", INT32, {"T", "N"}, EXAMPLE_TAGS);
  NodeRef x = b.Node("embed", "Embedding", {letters}, {{"vocab", kInputVocab}, {"dim", kEmbed}});
  if (conditioned) {
    auto condition = b.Node("condition", "Dense", {gender}, {{"units", kEmbed}});
    x = b.Node("conditioned", "Add", {x, condition});
  }
  auto lstm = b.Node("lstm", "LSTM", {x}, {{"hidden", kHidden}});
  auto logits = b.Node("logits", "Dense", {lstm}, {{"units", kOutputs}});
  auto loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, next});
  b.Output(logits);
  b.Loss(loss);
  TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.set_clip_global_norm(5);
  t.set_truncation_steps(16);
  t.set_streams_per_worker(64);
  t.set_steps(2000);
  t.set_seed(1);
  return b.Build();
}

}  // namespace rnnflow::one_to_many

#endif  // RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_MODEL_H_
