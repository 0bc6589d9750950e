// Batches of labelled examples and pairs (training/batch_source.h) from a
// directory prepared by PrepareExamples (dataset/example_prepare.h): N whole
// examples per batch, padded to the source / target steps
// (training/example_feed.h), each starting from a zero state. Two orders:
//
//   training    the global batches of dataset/example_batches.h (shuffled,
//               optionally sorted by length within windows of batches);
//               this worker fills its N slots of each
//   file order  the split's examples in order, N per batch, every worker
//               all of them: validation and evaluation (`rnnflow eval`)
//
// Data parallelism: every rank computes the same global batch and feeds its
// own N slots; Backward seeds the loss with
//   local_count x ranks / global_count
// (counts of the positions the loss averages over), so the averaged
// gradients are those of the mean over the whole global batch even when a
// partial batch or per-step masks leave ranks with different counts.
#ifndef RNNFLOW_TRAINING_EXAMPLE_BATCH_SOURCE_H_
#define RNNFLOW_TRAINING_EXAMPLE_BATCH_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/example_batches.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/batch_source.h"
#include "rnnflow/training/example_feed.h"

namespace rnnflow {

class ExampleBatchSource : public BatchSource {
 public:
  // The examples of `file` (a split of options.data), fed to `session`'s
  // EXAMPLE_* inputs (the feeder checks them against the file);
  // `training_order` as above (with options.rank, ranks, seed and
  // bucket_window), else file order.
  static absl::StatusOr<std::unique_ptr<ExampleBatchSource>> Create(
      const Session& session, std::unique_ptr<ExampleFile> file, const BatchSourceOptions& options,
      bool training_order);
  // File order over `file` with `feeder`, both borrowed (they must outlive
  // the source).
  ExampleBatchSource(const ExampleFeeder& feeder, const ExampleFile& file);

  // Feeds the next batch, and with several ranks sets the loss gradient
  // (above).
  BatchFeed FeedNext(Session& session) override;
  bool carries_state() const override { return false; }
  // The split's examples; global batches consumed (file order: batches fed).
  int64_t length() const override { return file_->size(); }
  int64_t position() const override { return position_; }
  absl::Status Seek(int64_t position) override;
  // Always the whole split.
  int64_t PassBatches(int64_t max_batches) const override;
  bool reads_own_columns() const override { return batches_.has_value(); }
  bool has_accuracy() const override { return feeder_->has_accuracy(); }
  Score Accuracy(const Session& session) const override { return feeder_->Accuracy(session); }
  const char* unit() const override { return "examples"; }
  int64_t units_per_batch() const override { return feeder_->N(); }
  std::string DescribeBatch() const override;
  // Examples, batches per epoch, truncation by the source / target steps.
  std::string DescribeData(const BatchSource* valid) const override;
  std::string LossNote(const Evaluation& ev) const override;
  std::string MetricFields(const Evaluation& ev) const override;

  // Training order: global batches per epoch.
  int64_t batches_per_epoch() const { return batches_ ? batches_->batches_per_epoch() : 0; }

 private:
  ExampleBatchSource() = default;

  // Owned by a source that Create made; else borrowed.
  std::unique_ptr<ExampleFile> owned_file_;
  std::unique_ptr<ExampleFeeder> owned_feeder_;
  const ExampleFile* file_ = nullptr;
  const ExampleFeeder* feeder_ = nullptr;
  std::optional<ExampleBatches> batches_;  // the training order
  int64_t steps_ = 0;                      // T, the target side's steps (for the log)
  int rank_ = 0, ranks_ = 1;
  int64_t position_ = 0;
  std::vector<int64_t> slots_;  // file order: the batch being filled
};

// Forward passes over batches of `file` in file order (max_batches <= 0:
// all), without touching parameters; states start at zero for every batch.
absl::StatusOr<Evaluation> EvaluateExamples(Session& session, const ExampleFeeder& feeder,
                                            const ExampleFile& file, int64_t max_batches = 0);

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_EXAMPLE_BATCH_SOURCE_H_
