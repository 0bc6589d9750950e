// The trainer's one view of its data (training/trainer.h): a split of the
// data read as a sequence of batches, each filling the session's graph
// inputs. Training pulls batches from the train split's source; a validation
// pass reads the valid split's source from its start; a checkpoint records
// the train source's position and a resume seeks back to it.
//
// One implementation per kind of data, chosen by the model's feeds
// (training/batch_source_factory.h):
//
//   TokenBatchSource    token streams (TOKENS, NEXT_TOKENS; RESETS at
//                       document starts): truncated BPTT, state carried
//   SeriesBatchSource   series streams (SERIES, NEXT_SERIES): the same
//   WindowBatchSource   shuffled windows of a series, each from a zero state
//   ExampleBatchSource  labelled examples and pairs (EXAMPLE_*), each from a
//                       zero state
#ifndef RNNFLOW_TRAINING_BATCH_SOURCE_H_
#define RNNFLOW_TRAINING_BATCH_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/evaluation.h"

namespace rnnflow {

// How the trainer lays out its batches: TrainerOptions resolved against the
// model's training block (training/trainer.h).
struct BatchSourceOptions {
  std::string data;           // TrainerOptions::data_path
  int64_t steps = 32;         // T: steps of a batch (windows: W)
  int64_t streams = 16;       // N: streams, windows or examples of one worker's batch
  int64_t window = 0;         // series: W > 0 trains on windows of W rows, 0 on streams
  int64_t source_steps = -1;  // examples with a source time symbol (<= 0: the longest source)
  // Data parallelism: the batch of ranks x N columns of which this worker
  // reads [rank x N, (rank + 1) x N).
  int rank = 0;
  int ranks = 1;
  uint64_t seed = 1;          // the training order's shuffles (windows, examples)
  int64_t bucket_window = 0;  // examples: batches per length-sorting window (0: off)
  bool validate = true;       // open the valid split, when the data has one
};

// What FeedNext put into the session.
struct BatchFeed {
  // The session's carried states are to be zeroed before this batch runs:
  // every batch of a source that does not carry state, and the first batch
  // of each pass over the split of one that does.
  bool zero_states = false;
  // The batch's weight in the mean loss of a pass: the positions its loss
  // averages over where that differs from batch to batch (examples), else 1.
  int64_t weight = 1;
  // Labelled examples: real examples fed, of which cut by the source steps,
  // and (pairs) targets + end cut by the target steps.
  int64_t examples = 0;
  int64_t truncated = 0;
  int64_t target_truncated = 0;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  // Fills the session's graph inputs with the next batch (and whatever else
  // the batch sets, e.g. the loss gradient's weight) and advances.
  virtual BatchFeed FeedNext(Session& session) = 0;

  // Whether the model's recurrent state runs on from one batch into the next
  // (streams: truncated BPTT) or every batch starts from a zero state.
  virtual bool carries_state() const = 0;

  // What a checkpoint records (CheckpointData::stream_length and
  // stream_position). length(): the split as this source cuts it (tokens or
  // rows per stream, windows per epoch, examples); a checkpoint of another
  // length cannot continue here. position(): where the next batch starts
  // (the offset within every stream, or the global batches consumed).
  virtual int64_t length() const = 0;
  virtual int64_t position() const = 0;
  // Continues from `position` (0: the start). InvalidArgument, and no move,
  // when this source has no such position.
  virtual absl::Status Seek(int64_t position) = 0;

  // The batches of one validation pass over this split (from position 0):
  // at most `max_batches` (<= 0: the whole split) for sources whose passes
  // are bounded; labelled examples are scored whole (accuracy is that of the
  // split).
  virtual int64_t PassBatches(int64_t max_batches) const = 0;
  // Whether this worker reads only its own columns of the split (a pass's
  // mean is then averaged over the workers) rather than all of it.
  virtual bool reads_own_columns() const = 0;

  // After a batch's forward pass: whether the loss classifies, and how many
  // of the batch's positions it predicted right.
  virtual bool has_accuracy() const { return false; }
  virtual Score Accuracy(const Session& session) const;

  // For the trainer's log: what one position of a batch is ("tokens",
  // "rows", "examples"), how many one worker's batch holds, what a global
  // batch is ("T=32 steps x N=16 streams x 2 workers = 1024 tokens per
  // update"), and any more to say about the data given the valid split's
  // source (nullptr: none), e.g. truncation; "" when nothing.
  virtual const char* unit() const = 0;
  virtual int64_t units_per_batch() const = 0;
  virtual std::string DescribeBatch() const = 0;
  virtual std::string DescribeData(const BatchSource* valid) const;
  // How a validation pass reads: the log's words after "loss 1.2345" and
  // the metrics' JSON fields after "valid_loss" (each starting with ", " or
  // " "). By default bits per token.
  virtual std::string LossNote(const Evaluation& ev) const;
  virtual std::string MetricFields(const Evaluation& ev) const;
};

// The graph input declared `feed: FEED`, or -1 when there is none.
int InputFed(const Graph& graph, Feed feed);

// For DescribeBatch: "1 worker", "2 workers"; and the global batch of
// streams, "T=32 steps x N=16 streams x 2 workers = 1024 tokens per update".
std::string WorkerCount(int ranks);
std::string DescribeStreamBatch(int64_t steps, int64_t streams, int ranks, const char* unit);

// Forward passes over the next `batches` batches of `source`, without
// updating anything: states start at zero and follow the source's rule
// (carried, or zeroed per batch). The caller seeks the source and saves the
// session's carried states if it needs them.
absl::StatusOr<Evaluation> Evaluate(Session& session, BatchSource& source, int64_t batches);

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_BATCH_SOURCE_H_
