#include "rnnflow/dataset/chunk_prefetcher.h"

#include <algorithm>
#include <utility>

namespace rnnflow {

ChunkPrefetcher::ChunkPrefetcher(int64_t chunk_elements, FillFn fill)
    : fill_(std::move(fill)),
      first_(static_cast<size_t>(chunk_elements)),
      second_(static_cast<size_t>(chunk_elements)),
      thread_([this] { Loop(); }) {}

ChunkPrefetcher::~ChunkPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ChunkPrefetcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || (busy_ && staged_ != requested_); });
    if (stop_) return;
    const int64_t position = requested_;
    lock.unlock();
    fill_(position, absl::MakeSpan(first_), absl::MakeSpan(second_));
    lock.lock();
    staged_ = position;
    busy_ = false;
    cv_.notify_all();
  }
}

void ChunkPrefetcher::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
}

void ChunkPrefetcher::Start(int64_t position) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (staged_ == position) return;  // already there
  staged_ = -1;
  requested_ = position;
  busy_ = true;
  cv_.notify_all();
}

bool ChunkPrefetcher::Take(int64_t position, absl::Span<int32_t> first,
                           absl::Span<int32_t> second) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (staged_ != position || first.size() != first_.size() || second.size() != second_.size()) {
    ++misses_;
    return false;
  }
  std::copy(first_.begin(), first_.end(), first.begin());
  std::copy(second_.begin(), second_.end(), second.begin());
  ++hits_;
  return true;
}

}  // namespace rnnflow
