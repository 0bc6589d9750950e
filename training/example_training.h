// Example-mode training data for training/trainer.*: models with EXAMPLE_*
// inputs train on a directory from `rnnflow prepare examples`, one batch of
// N whole examples (padded to T steps, each starting from a zero state) per
// step, in the order of dataset/example_batches.h; validation scores the
// whole valid split. The trainer only dispatches here.
//
// Data parallelism: every rank computes the same global batch and feeds its
// own N slots; Backward seeds the loss with
//   local_count x ranks / global_count
// (counts of the positions the loss averages over), so the averaged
// gradients are those of the mean over the whole global batch even when a
// partial batch or per-step masks leave ranks with different counts.
#ifndef RNNFLOW_TRAINING_EXAMPLE_TRAINING_H_
#define RNNFLOW_TRAINING_EXAMPLE_TRAINING_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/example_batches.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/example_feed.h"

namespace rnnflow {

struct ExampleEvaluation {
  double loss = 0;  // mean over the positions the loss counts
  Score score;      // when the loss is a classification loss
  bool has_accuracy = false;
  int64_t examples = 0;
  int64_t truncated = 0;         // sources longer than the source steps
  int64_t target_truncated = 0;  // pairs: targets + end longer than the target steps
  int64_t batches = 0;
};

// Forward passes over batches of `file` in file order (max_batches <= 0:
// all), without touching parameters; states start at zero for every batch.
absl::StatusOr<ExampleEvaluation> EvaluateExamples(Session& session, const ExampleFeeder& feeder,
                                                   const ExampleFile& file,
                                                   int64_t max_batches = 0);

struct ExampleTrainingOptions {
  std::string data;  // the prepared directory
  int rank = 0, ranks = 1;
  uint64_t seed = 1;
  int64_t bucket_window = 0;
  bool validate = true;
};

class ExampleTraining {
 public:
  static absl::StatusOr<std::unique_ptr<ExampleTraining>> Create(
      const Session& session, const ExampleTrainingOptions& options);

  // Feeds the next training batch, sets the loss gradient (above), zeroes
  // the session's carried states and advances.
  FeedStats FeedNext(Session& session);
  // The valid split, when there is one.
  bool has_valid() const { return valid_ != nullptr; }
  absl::StatusOr<ExampleEvaluation> Validate(Session& session, int64_t max_batches) const;
  bool has_accuracy() const { return feeder_->has_accuracy(); }
  Score Accuracy(const Session& session) const { return feeder_->Accuracy(session); }

  // Global batches consumed (the checkpointed position).
  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }
  int64_t train_examples() const { return train_->size(); }
  int64_t batches_per_epoch() const { return batches_->batches_per_epoch(); }
  // One line on the data: examples, batches per epoch, truncation by T.
  std::string Describe() const;

 private:
  ExampleTraining() = default;
  ExampleTrainingOptions options_;
  std::unique_ptr<ExampleFile> train_, valid_;
  std::unique_ptr<ExampleFeeder> feeder_;
  std::optional<ExampleBatches> batches_;
  int64_t position_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_EXAMPLE_TRAINING_H_
