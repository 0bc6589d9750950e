// How the runtime reaches data parallelism without knowing MPI: the session
// reports each parameter gradient the moment the backward pass has finished
// it, and a reducer (dist/ implements one over MPI) may start reducing it
// right away, overlapping the rest of the backward pass.
#ifndef RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_
#define RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "rnnflow/runtime/tensor.h"

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

  // The backward pass seeds the loss gradient with this factor: the MPI
  // reducer returns 1 / workers, so that summing the gradients over workers
  // gives their mean without another pass over them.
  virtual float loss_gradient_scale() const { return 1.f; }

  // Of the last step: seconds from the first reduction's start to the last
  // one's end, and the part of them Finish() waited (communication the
  // backward pass did not hide). The rest overlapped the backward pass.
  virtual double last_seconds() const { return 0; }
  virtual double last_exposed_seconds() const { return 0; }
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_GRADIENT_REDUCER_H_
