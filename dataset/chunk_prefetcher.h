// Reads the next training chunk on a background thread while the current
// step computes, so that reading the corpus (page faults of a memory-mapped
// file larger than RAM, a slow disk or network file system) never stalls
// training.
//
// The prefetcher is keyed by position: Start(p) fills chunk p into its own
// staging buffers; Take(p, ...) hands that chunk over only if it is the one
// asked for, and otherwise reports a miss so the caller reads synchronously.
// Seeking (resume, validation) therefore cannot serve a stale chunk, and the
// results are identical with and without prefetching.
#ifndef RNNFLOW_DATASET_CHUNK_PREFETCHER_H_
#define RNNFLOW_DATASET_CHUNK_PREFETCHER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/types/span.h"

namespace rnnflow {

class ChunkPrefetcher {
 public:
  // Writes chunk `position` into the two spans (tokens and targets, each
  // `chunk_elements` long). Called on the background thread; it must only
  // read data that does not change while a fill is in flight.
  using FillFn =
      std::function<void(int64_t position, absl::Span<int32_t> first, absl::Span<int32_t> second)>;

  ChunkPrefetcher(int64_t chunk_elements, FillFn fill);
  // Waits for a fill that is running; a requested one not yet started is
  // dropped.
  ~ChunkPrefetcher();
  ChunkPrefetcher(const ChunkPrefetcher&) = delete;
  ChunkPrefetcher& operator=(const ChunkPrefetcher&) = delete;

  // Starts filling chunk `position` in the background (after any fill in
  // flight has finished).
  void Start(int64_t position);
  // If chunk `position` is staged (waiting for its fill to finish), copies it
  // into the spans and returns true; otherwise returns false.
  bool Take(int64_t position, absl::Span<int32_t> first, absl::Span<int32_t> second);
  // Waits until no fill is in flight (before the data it reads changes).
  void Wait();

  // Chunks served from the staging buffers / read synchronously instead.
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  void Loop();

  const FillFn fill_;
  std::vector<int32_t> first_, second_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;  // a fill is requested or running
  bool stop_ = false;
  int64_t requested_ = -1;  // the position being (or last) filled
  int64_t staged_ = -1;     // the position whose fill has completed
  int64_t hits_ = 0, misses_ = 0;
  std::thread thread_;  // last: starts after every member above
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_CHUNK_PREFETCHER_H_
