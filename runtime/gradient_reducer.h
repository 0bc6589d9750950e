// How the runtime reaches data parallelism without knowing MPI: the session
// reports each parameter gradient the moment the backward pass has finished
// it, and a reducer (dist/ implements one over MPI) may start reducing it
// right away, overlapping the rest of the backward pass.
#ifndef RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_
#define RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/tensor.h"

namespace rnnflow {

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;

  // Called once, before any step, with every parameter gradient in the order
  // the backward pass finishes them (output layer first, embedding last).
  virtual absl::Status Plan(absl::Span<const Tensor> gradients) = 0;
  // Gradient `index` (into Plan's list) is final for this step.
  virtual absl::Status Ready(int index) = 0;
  // Blocks until every gradient holds the mean over all workers.
  virtual absl::Status Finish() = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_
