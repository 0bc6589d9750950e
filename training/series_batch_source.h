// Batches of a prepared series for stateful truncated BPTT
// (training/batch_source.h): T steps of N contiguous streams of rows
// (dataset/series_reader.h) fed to the graph inputs declared SERIES and
// NEXT_SERIES, the state carried from one chunk into the next.
#ifndef RNNFLOW_TRAINING_SERIES_BATCH_SOURCE_H_
#define RNNFLOW_TRAINING_SERIES_BATCH_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/series_reader.h"
#include "rnnflow/training/batch_source.h"

namespace rnnflow {

// The series inputs (SERIES, NEXT_SERIES) of `graph` must be FLOAT32
// [T, N, features], features being the prepared columns of `data`.
absl::Status CheckSeriesInputs(const Graph& graph, int64_t features, const std::string& data);

// How a validation pass over a series reads in the log (the loss is a mean
// squared error in the prepared, normalised units).
inline constexpr char kSeriesLossNote[] = " (normalised units)";

class SeriesBatchSource : public BatchSource {
 public:
  // Split `split` of the prepared series options.data cut into ranks x N
  // streams, of which this worker reads its own.
  static absl::StatusOr<std::unique_ptr<SeriesBatchSource>> Open(const Session& session,
                                                                 const BatchSourceOptions& options,
                                                                 const std::string& split);

  BatchFeed FeedNext(Session& session) override;
  bool carries_state() const override { return true; }
  int64_t length() const override { return streams_->stream_length(); }
  int64_t position() const override { return streams_->position(); }
  absl::Status Seek(int64_t position) override;
  int64_t PassBatches(int64_t max_batches) const override;
  bool reads_own_columns() const override { return true; }
  const char* unit() const override { return "rows"; }
  int64_t units_per_batch() const override { return streams_->steps() * N_; }
  std::string DescribeBatch() const override;
  std::string LossNote(const Evaluation&) const override { return kSeriesLossNote; }

 private:
  SeriesBatchSource() = default;

  std::unique_ptr<SeriesStreams> streams_;
  int inputs_ = -1, targets_ = -1;
  int64_t N_ = 0;
  int ranks_ = 1;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_SERIES_BATCH_SOURCE_H_
