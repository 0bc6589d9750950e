#include "rnnflow/dataset/series_windows.h"

#include <cstring>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

// SplitMix64 step: epoch orders depend on (seed, epoch) only, on every
// platform and standard library.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, n), n > 0, without modulo bias.
uint64_t Below(uint64_t& state, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = SplitMix(state);
  } while (x >= limit);
  return x % n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SeriesWindows>> SeriesWindows::Open(
    const std::string& dir, const std::string& split, const SeriesWindowOptions& options) {
  int index = -1;
  if (split == "train") index = 0;
  if (split == "valid") index = 1;
  if (split == "test") index = 2;
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown split '", split, "' (expected train, valid or test)"));
  }
  if (options.window < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("SeriesWindowOptions::window must be >= 1 rows; got ", options.window));
  }
  if (options.batch < 1 || options.ranks < 1 || options.rank < 0 || options.rank >= options.ranks) {
    return absl::InvalidArgumentError(absl::StrCat("bad window batching: ", options.batch,
                                                   " windows per batch, rank ", options.rank,
                                                   " of ", options.ranks));
  }
  const std::string path = dir + "/series.f32";
  RF_ASSIGN_OR_RETURN(auto file, SeriesFile::Open(path));
  const int64_t rows = file->split_rows(index);
  if (options.window >= rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": a window of ", options.window, " rows does not fit the ", split, " split's ", rows,
        " rows (a window needs W + 1 rows: W inputs and the row after them); use a "
        "window of at most ",
        rows - 1));
  }
  std::unique_ptr<SeriesWindows> w(new SeriesWindows());
  w->options_ = options;
  w->begin_ = file->data() + file->split_begin(index) * file->columns();
  w->file_ = std::move(file);
  w->num_windows_ = rows - options.window;
  return w;
}

void SeriesWindows::BuildEpoch(int64_t epoch) {
  if (epoch == cached_epoch_) return;
  cached_epoch_ = epoch;
  order_.resize(num_windows_);
  std::iota(order_.begin(), order_.end(), int64_t{0});
  uint64_t state = options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch);
  SplitMix(state);  // decorrelate nearby (seed, epoch) pairs
  for (int64_t i = num_windows_; i > 1; --i) {
    std::swap(order_[i - 1], order_[Below(state, static_cast<uint64_t>(i))]);
  }
}

int64_t SeriesWindows::WindowStart(int64_t k) {
  if (!options_.shuffle) return k % num_windows_;
  BuildEpoch(k / num_windows_);
  return order_[k % num_windows_];
}

void SeriesWindows::Next(absl::Span<float> inputs, absl::Span<float> targets) {
  const int64_t f = file_->columns();
  const int64_t w = options_.window, n = options_.batch;
  const int64_t first = position_ * global_batch() + options_.rank * n;
  for (int64_t j = 0; j < n; ++j) {
    const float* rows = begin_ + WindowStart(first + j) * f;
    for (int64_t t = 0; t < w; ++t) {
      std::memcpy(inputs.data() + (t * n + j) * f, rows + t * f, sizeof(float) * f);
      std::memcpy(targets.data() + (t * n + j) * f, rows + (t + 1) * f, sizeof(float) * f);
    }
  }
  ++position_;
}

}  // namespace rnnflow
