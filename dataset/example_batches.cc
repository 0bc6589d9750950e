#include "rnnflow/dataset/example_batches.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace rnnflow {
namespace {

// SplitMix64: a small, fully specified generator, so epoch orders are the
// same on every platform and standard library.
struct SplitMix64 {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (rejection sampling: no modulo bias).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }
};

template <typename T>
void Shuffle(std::vector<T>& v, SplitMix64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(i)]);
}

}  // namespace

ExampleBatches::ExampleBatches(std::vector<int64_t> lengths, const ExampleBatchOptions& options)
    : lengths_(std::move(lengths)), options_(options) {
  const int64_t g = global_batch();
  batches_per_epoch_ = (num_examples() + g - 1) / g;
}

absl::StatusOr<ExampleBatches> ExampleBatches::Create(std::vector<int64_t> lengths,
                                                      const ExampleBatchOptions& options) {
  if (options.batch < 1 || options.ranks < 1 || options.rank < 0 || options.rank >= options.ranks ||
      options.bucket_window < 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad batching: batch ", options.batch, ", rank ",
                                                   options.rank, " of ", options.ranks,
                                                   ", bucket window ", options.bucket_window));
  }
  if (lengths.empty()) return absl::InvalidArgumentError("no examples to batch");
  return ExampleBatches(std::move(lengths), options);
}

void ExampleBatches::BuildEpoch(int64_t epoch) {
  if (epoch == cached_epoch_) return;
  cached_epoch_ = epoch;
  const int64_t n = num_examples();
  order_.resize(n);
  for (int64_t i = 0; i < n; ++i) order_[i] = i;
  batch_order_.resize(batches_per_epoch_);
  for (int64_t b = 0; b < batches_per_epoch_; ++b) batch_order_[b] = b;
  if (!options_.shuffle) return;
  SplitMix64 rng{options_.seed * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(epoch + 1)};
  rng.Next();
  Shuffle(order_, rng);
  if (options_.bucket_window > 1) {
    const int64_t window = options_.bucket_window * global_batch();
    for (int64_t begin = 0; begin < n; begin += window) {
      const int64_t end = std::min(n, begin + window);
      std::stable_sort(order_.begin() + begin, order_.begin() + end,
                       [&](int64_t a, int64_t b) { return lengths_[a] < lengths_[b]; });
    }
  }
  Shuffle(batch_order_, rng);
}

std::vector<int64_t> ExampleBatches::GlobalBatch(int64_t position) {
  const int64_t epoch = position / batches_per_epoch_;
  BuildEpoch(epoch);
  const int64_t b = batch_order_[position % batches_per_epoch_];
  const int64_t g = global_batch();
  std::vector<int64_t> slots(g, -1);
  for (int64_t k = 0; k < g; ++k) {
    const int64_t i = b * g + k;
    if (i < num_examples()) slots[k] = order_[i];
  }
  return slots;
}

std::vector<int64_t> ExampleBatches::Batch(int64_t position) {
  std::vector<int64_t> global = GlobalBatch(position);
  const auto first = global.begin() + options_.rank * options_.batch;
  return std::vector<int64_t>(first, first + options_.batch);
}

}  // namespace rnnflow
