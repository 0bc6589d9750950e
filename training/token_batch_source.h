// Batches of a token corpus for truncated BPTT (training/batch_source.h):
// T steps of N contiguous streams (dataset/token_streams.h) fed to the graph
// inputs declared TOKENS and NEXT_TOKENS, the state carried from one chunk
// into the next; a model with a RESETS input also gets the corpus'
// document starts (dataset/documents.h).
#ifndef RNNFLOW_TRAINING_TOKEN_BATCH_SOURCE_H_
#define RNNFLOW_TRAINING_TOKEN_BATCH_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/documents.h"
#include "rnnflow/dataset/token_streams.h"
#include "rnnflow/training/batch_source.h"

namespace rnnflow {

class TokenBatchSource : public BatchSource {
 public:
  // Split `split` of options.data (OpenTrainingStreams) cut into ranks x N
  // streams of T steps, of which this worker reads its own.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenStreams(
      const BatchSourceOptions& options, const std::string& split);
  // Batches of `streams`, split `split`, for `session`: checks that every
  // token id fits the Embedding tables reading the tokens, and reads the
  // split's document starts for a RESETS input.
  static absl::StatusOr<std::unique_ptr<TokenBatchSource>> Create(
      const Session& session, const BatchSourceOptions& options, const std::string& split,
      std::unique_ptr<TokenStreams> streams);

  // Reads the following chunk in the background (dataset/chunk_prefetcher.h).
  void EnablePrefetch() { streams_->EnablePrefetch(); }

  BatchFeed FeedNext(Session& session) override;
  bool carries_state() const override { return true; }
  int64_t length() const override { return streams_->stream_length(); }
  int64_t position() const override { return streams_->position(); }
  absl::Status Seek(int64_t position) override;
  int64_t PassBatches(int64_t max_batches) const override;
  bool reads_own_columns() const override { return true; }
  const char* unit() const override { return "tokens"; }
  int64_t units_per_batch() const override { return streams_->steps() * N_; }
  std::string DescribeBatch() const override;

 private:
  TokenBatchSource() = default;

  std::unique_ptr<TokenStreams> streams_;
  std::optional<DocumentStarts> docs_;  // with a RESETS input
  int tokens_ = -1, targets_ = -1, resets_ = -1;
  int64_t N_ = 0;
  int ranks_ = 1;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_TOKEN_BATCH_SOURCE_H_
