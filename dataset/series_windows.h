// Windowed training data of a prepared series (dataset/series_reader.h):
// the other standard way to train a forecaster besides stateful truncated
// BPTT. Each example is a window of W consecutive rows of one split, fed as
// T = W steps from a zero state (the trainer resets the state every batch),
// with the next row at every step as target:
//
//   window s: inputs rows [s, s + W), targets rows [s + 1, s + W + 1)
//
// for s = 0 .. E - 1, E = rows - W, so no window (nor its last target) ever
// crosses the split's end. W >= rows is an error.
//
// Training order: every window start once per epoch. Epoch e is a
// Fisher-Yates shuffle of [0, E) seeded by SplitMix64(seed, e); the epochs
// are concatenated into one sequence of windows, and global batch p is its
// windows [pG, (p + 1)G), G = ranks x N (a batch may straddle two epochs,
// so every batch is full and no window is dropped or repeated within an
// epoch). Rank r takes slots [rN, (r + 1)N) of each global batch, so R ranks
// x N windows see exactly what 1 rank x RN sees. Evaluation order (no
// shuffle): window k of the sequence is start k mod E.
#ifndef RNNFLOW_DATASET_SERIES_WINDOWS_H_
#define RNNFLOW_DATASET_SERIES_WINDOWS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/series_reader.h"

namespace rnnflow {

struct SeriesWindowOptions {
  int64_t window = 0;  // W rows per window (= T)
  int64_t batch = 1;   // N windows per rank and batch
  int ranks = 1;
  int rank = 0;
  uint64_t seed = 1;
  bool shuffle = true;
};

class SeriesWindows {
 public:
  // `DIR/series.f32`, split "train", "valid" or "test".
  static absl::StatusOr<std::unique_ptr<SeriesWindows>> Open(const std::string& dir,
                                                             const std::string& split,
                                                             const SeriesWindowOptions& options);

  int64_t window() const { return options_.window; }
  int64_t features() const { return file_->columns(); }
  // E: window starts in the split (one epoch).
  int64_t num_windows() const { return num_windows_; }
  int64_t global_batch() const { return options_.batch * options_.ranks; }
  const SeriesFile& file() const { return *file_; }

  // The start row (within the split) of window k of the sequence (all
  // epochs, all ranks).
  int64_t WindowStart(int64_t k);

  // Fills inputs and targets, both [W, N, F] time-major, with this rank's
  // windows of global batch position(), and advances.
  void Next(absl::Span<float> inputs, absl::Span<float> targets);

  // Global batches consumed (the checkpointed position).
  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }

 private:
  SeriesWindows() = default;
  void BuildEpoch(int64_t epoch);

  SeriesWindowOptions options_;
  std::unique_ptr<SeriesFile> file_;
  const float* begin_ = nullptr;  // first row of the split
  int64_t num_windows_ = 0;
  int64_t position_ = 0;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;  // window starts of the cached epoch
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_SERIES_WINDOWS_H_
