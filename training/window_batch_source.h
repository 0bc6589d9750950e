// Batches of windows of a prepared series (training/batch_source.h): N
// windows of W rows (dataset/series_windows.h) fed as T = W steps to the
// graph inputs declared SERIES and NEXT_SERIES, every window from a zero
// state; the train split's windows shuffled per epoch, a valid split's in
// order.
#ifndef RNNFLOW_TRAINING_WINDOW_BATCH_SOURCE_H_
#define RNNFLOW_TRAINING_WINDOW_BATCH_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/series_windows.h"
#include "rnnflow/training/batch_source.h"
#include "rnnflow/training/series_batch_source.h"

namespace rnnflow {

class WindowBatchSource : public BatchSource {
 public:
  // Windows of options.window rows of split `split` of the prepared series
  // options.data, global batches of ranks x N windows of which this worker
  // takes its own; `shuffle`: the training order (else the windows in order).
  static absl::StatusOr<std::unique_ptr<WindowBatchSource>> Open(const Session& session,
                                                                 const BatchSourceOptions& options,
                                                                 const std::string& split,
                                                                 bool shuffle);

  BatchFeed FeedNext(Session& session) override;
  bool carries_state() const override { return false; }
  int64_t length() const override { return windows_->num_windows(); }
  int64_t position() const override { return windows_->position(); }
  absl::Status Seek(int64_t position) override;
  // Whole global batches only.
  int64_t PassBatches(int64_t max_batches) const override;
  bool reads_own_columns() const override { return true; }
  const char* unit() const override { return "rows"; }
  int64_t units_per_batch() const override { return windows_->window() * N_; }
  std::string DescribeBatch() const override;
  std::string LossNote(const Evaluation&) const override { return kSeriesLossNote; }

 private:
  WindowBatchSource() = default;

  std::unique_ptr<SeriesWindows> windows_;
  int inputs_ = -1, targets_ = -1;
  int64_t N_ = 0;
  int ranks_ = 1;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_WINDOW_BATCH_SOURCE_H_
