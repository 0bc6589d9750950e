// Parameter initialisation. Values depend only on (seed, parameter name), so
// every MPI rank and every run with the same seed starts from the same
// weights without communicating.
#ifndef RNNFLOW_RUNTIME_INITIALIZER_H_
#define RNNFLOW_RUNTIME_INITIALIZER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

// Fills `out` per `init`: zeros, ones, constant(value), uniform(+-scale),
// normal(stddev scale), glorot_uniform (fan_in = first dim, fan_out = last).
absl::Status InitializeTensor(const InitializerDef& init, const std::string& name, uint64_t seed,
                              const Tensor& out);

// Stable 64-bit hash of a string (FNV-1a); unlike absl::Hash it is the same
// in every process.
uint64_t StableHash(const std::string& s, uint64_t seed = 0);

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_INITIALIZER_H_
