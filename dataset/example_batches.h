// The order in which training visits labelled examples: epochs of shuffled
// examples cut into global batches of G = ranks x N slots, each rank taking
// its N consecutive slots of every global batch (so R ranks x N see exactly
// what 1 rank x R*N sees).
//
// Epoch e's order is a function of (seed, e) only:
//   1. a Fisher-Yates shuffle of [0, E) with a SplitMix64-seeded generator;
//   2. bucketing (bucket_window = W > 1): consecutive windows of W x G
//      examples are each sorted by length (stable), so a batch holds
//      examples of similar length and pads less;
//   3. the epoch is cut into ceil(E / G) batches and the batch order is
//      shuffled again (so lengths do not rise through the epoch).
// The last batch of an epoch may be partial: its empty slots are -1 (the
// feeder turns them into padding that the loss ignores). Every example is
// visited exactly once per epoch. Without shuffling (evaluation), batches
// are [0, G), [G, 2G), ... in file order.
#ifndef RNNFLOW_DATASET_EXAMPLE_BATCHES_H_
#define RNNFLOW_DATASET_EXAMPLE_BATCHES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace rnnflow {

struct ExampleBatchOptions {
  int64_t batch = 16;  // N: slots per rank
  int ranks = 1;
  int rank = 0;
  uint64_t seed = 1;
  bool shuffle = true;
  int64_t bucket_window = 0;  // W global batches per sorting window; 0/1: off
};

class ExampleBatches {
 public:
  // `lengths[i]`: example i's length (for bucketing).
  static absl::StatusOr<ExampleBatches> Create(std::vector<int64_t> lengths,
                                               const ExampleBatchOptions& options);

  int64_t num_examples() const { return static_cast<int64_t>(lengths_.size()); }
  int64_t global_batch() const { return options_.batch * options_.ranks; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  // Global batch number `position` (0, 1, ... over all epochs): all G slots
  // (example ids, -1 for empty slots).
  std::vector<int64_t> GlobalBatch(int64_t position);
  // This rank's N slots of it.
  std::vector<int64_t> Batch(int64_t position);

 private:
  ExampleBatches(std::vector<int64_t> lengths, const ExampleBatchOptions& options);
  void BuildEpoch(int64_t epoch);

  std::vector<int64_t> lengths_;
  ExampleBatchOptions options_;
  int64_t batches_per_epoch_ = 0;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;        // examples of the cached epoch
  std::vector<int64_t> batch_order_;  // batch permutation of the cached epoch
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_EXAMPLE_BATCHES_H_
