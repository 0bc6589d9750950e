// The few collectives the trainer needs from data-parallel workers besides
// the gradient all-reduce (runtime/gradient_reducer.h): agreeing on when to
// stop, the global loss, and gathering every column's carried state into
// one checkpoint. dist/ implements it over MPI; the runtime never sees MPI.
//
// Every call is collective: all workers make it at the same point of the
// run, in the same order, or they wait for each other forever.
#ifndef RNNFLOW_RUNTIME_WORKER_GROUP_H_
#define RNNFLOW_RUNTIME_WORKER_GROUP_H_

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace rnnflow {

class WorkerGroup {
 public:
  enum class Op { kSum, kMax };

  virtual ~WorkerGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Element-wise sum or maximum of `values` over all workers, in place.
  virtual absl::Status AllReduce(absl::Span<double> values, Op op) const = 0;
  // Worker 0 receives every worker's `local` (the same length on each),
  // concatenated in rank order, in `all` (size() * local.size() floats);
  // `all` is not touched on the other workers.
  virtual absl::Status Gather(absl::Span<const float> local, absl::Span<float> all) const = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_WORKER_GROUP_H_
