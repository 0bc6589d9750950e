// Fills a Session's example inputs (Feed EXAMPLE_*, proto/rnnflow.proto)
// from a batch of slots of an ExampleFile, and scores the model's
// predictions (accuracy) after Forward. Used by training, `rnnflow eval` and
// tests; `rnnflow predict` fills the same inputs from new text.
//
// Padding rules for a batch (N slots). The source side (tokens, tags, values,
// per-step weights) has the steps of its inputs' time symbol, the target side
// (EXAMPLE_TARGET_*) those of its own: one symbol "T" for both, or e.g. S
// for the source and T for the target (docs/ARCHITECTURE.md, "Time").
//   tokens  id 0 (<pad>) past each example's length; examples longer than
//           the source steps keep their first tokens (counted as truncated);
//   lengths min(length, source steps); an empty slot (-1) has length 1 and
//           no labels;
//   label   class id, or -1 for an empty slot (INT32); float targets (class
//           ids converted when the file has classes), 0 for an empty slot;
//   weights 1 where the loss counts (a real example; per step: t < length),
//           else 0;
//   tags    tag id, -1 past the length and in empty slots;
//   values  0 past the length;
//   targets (pairs) the decoder's input 0 y_1..y_m and output y_1..y_m 0 (see
//           EXAMPLE_TARGET_* in proto/rnnflow.proto), m + 1 steps, at most the
//           target steps (longer ones keep their first steps and are counted
//           as target_truncated); a loss on EXAMPLE_TARGET_OUTPUTS counts
//           those steps.
#ifndef RNNFLOW_TRAINING_EXAMPLE_FEED_H_
#define RNNFLOW_TRAINING_EXAMPLE_FEED_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/evaluation.h"

namespace rnnflow {

// Whether any graph input is fed EXAMPLE_*.
bool IsExampleModel(const Graph& graph);

// The source side's time symbol: that of the input fed EXAMPLE_TOKENS (or
// EXAMPLE_VALUES); "T" when there is none.
std::string SourceTimeSymbol(const Graph& graph);

// The most tokens (steps) of any example of `file`.
int64_t LongestSource(const ExampleFile& file);

// Binds every time symbol of an example model: "T" to `steps`, the source's
// symbol (when not "T") to `source_steps` when > 0, else to
// `longest_source` (the longest source of the data the run reads). Any
// other time symbol is an error naming the input that carries it.
absl::StatusOr<SymbolBindings> ExampleTimeBindings(const Graph& graph, int64_t steps,
                                                   int64_t source_steps, int64_t longest_source);

struct FeedStats {
  int64_t examples = 0;          // real examples in the batch
  int64_t truncated = 0;         // of which longer than the source steps
  int64_t target_truncated = 0;  // pairs: of which targets (+ end) longer than the target steps
  int64_t loss_count = 0;        // positions the loss averages over
};

// One example's fields, wherever they live (a mapped file, or text being
// predicted); `present == false` marks an empty slot.
struct ExampleRef {
  bool present = false;
  absl::Span<const int32_t> tokens;
  absl::Span<const int32_t> tags;
  absl::Span<const float> values;
  absl::Span<const int32_t> targets;  // pairs: the target sequence
  int32_t label = -1;
  absl::Span<const float> label_values;
};
// Example i of `file` (i < 0: an empty slot).
ExampleRef RefOf(const ExampleFile& file, int64_t i);

class ExampleFeeder {
 public:
  // Checks every EXAMPLE_* input of `session`'s graph against the file's
  // fields (dtype, shape, presence of labels/tags/values, vocabulary sizes
  // of Embedding nodes reading the tokens); errors name the input and
  // `data` (the prepared directory).
  static absl::StatusOr<std::unique_ptr<ExampleFeeder>> Create(const Session& session,
                                                               const ExampleFileInfo& info,
                                                               const std::string& data);

  // Steps of the source side and of the target side (pairs; else equal).
  int64_t source_steps() const { return S_; }
  int64_t target_steps() const { return T_; }
  int64_t N() const { return N_; }

  // Fills the inputs with `slots` (N example ids of `file`, -1 = empty).
  FeedStats Fill(const ExampleFile& file, absl::Span<const int64_t> slots,
                 const Session& session) const;
  // The same from N references (labels are read only when the model has a
  // label input; `class_labels`: the references carry class ids).
  FeedStats Fill(absl::Span<const ExampleRef> batch, bool class_labels,
                 const Session& session) const;
  // The loss count of any set of slots (e.g. a whole global batch), to
  // weight ranks' losses without filling anything.
  int64_t LossCount(const ExampleFile& file, absl::Span<const int64_t> slots) const;

  // Whether the loss is a classification loss (SoftmaxCrossEntropy or
  // SigmoidCrossEntropy on labels or tags) that Accuracy can score.
  bool has_accuracy() const { return score_kind_ != kNoScore; }
  // After Forward: argmax (softmax) or logit > 0 (sigmoid) against the
  // labels, over the positions the loss counts.
  Score Accuracy(const Session& session) const;

  // For predictions: the tensor the loss reads its logits (or predictions)
  // from, the loss op, and whether it scores every step.
  int logits_tensor() const { return logits_; }
  const std::string& loss_op() const { return loss_op_; }
  bool loss_per_step() const { return loss_per_step_; }

 private:
  enum ScoreKind { kNoScore, kSoftmax, kSigmoid };
  ExampleFeeder() = default;

  int64_t S_ = 0, T_ = 0, N_ = 0;
  int tokens_ = -1, lengths_ = -1, label_ = -1, weights_ = -1, tags_ = -1, values_ = -1;
  int target_in_ = -1, target_out_ = -1, target_lengths_ = -1;
  bool loss_on_targets_ = false;  // the loss reads EXAMPLE_TARGET_OUTPUTS
  bool weights_per_step_ = false;
  bool loss_per_step_ = false;
  int64_t label_width_ = 1;
  int features_ = 0;
  ScoreKind score_kind_ = kNoScore;
  int logits_ = -1, score_labels_ = -1, score_weights_ = -1;
  int64_t ignore_label_ = -1;
  std::string loss_op_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_EXAMPLE_FEED_H_
