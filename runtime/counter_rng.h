// Counter-based random numbers: every draw is a hash of its coordinates
// (run seed, optimizer step, node, global batch column, element), not the
// next word of a sequential generator. Nothing is stored between draws, so
//   - a kernel's backward pass recomputes its forward pass's draws (Dropout
//     keeps no mask buffer, and step-mode calls may come in any order),
//   - OpenMP threads draw disjoint elements without sharing state, with
//     results independent of the thread count,
//   - a run resumed from a checkpoint (which stores seed and step) draws
//     exactly what the uninterrupted run would have,
//   - a column draws the same wherever it is computed: R data-parallel
//     workers of N columns draw what one process of R x N columns draws, and
//     a run resumed at another worker count continues exactly.
// The hash is SplitMix64's finaliser, applied to each coordinate in turn.
#ifndef RNNFLOW_RUNTIME_COUNTER_RNG_H_
#define RNNFLOW_RUNTIME_COUNTER_RNG_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {

// SplitMix64's output function: a bijective mix of all 64 bits.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A stable key for a node: FNV-1a of its name, so a node draws the same
// numbers wherever it sits in the schedule and whatever other nodes exist.
inline uint64_t NodeRandomKey(absl::string_view node_name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : node_name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

// The key of one node's draws in one pass: distinct for every (seed, step,
// node).
inline uint64_t PassRandomKey(const RunInfo& run, uint64_t node_key) {
  uint64_t k = Mix64(run.seed);
  k = Mix64(k ^ static_cast<uint64_t>(run.step));
  return Mix64(k ^ node_key);
}

// The key of one global batch column's draws within a pass.
inline uint64_t ColumnRandomKey(uint64_t pass_key, int64_t column) {
  return Mix64(pass_key ^ Mix64(~static_cast<uint64_t>(column)));
}

// 32 uniformly distributed bits for element `index` of a pass.
inline uint32_t RandomBits(uint64_t pass_key, uint64_t index) {
  return static_cast<uint32_t>(Mix64(pass_key ^ Mix64(index)) >> 32);
}

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_COUNTER_RNG_H_
