// A Session is a Graph compiled for concrete sizes (T, N, ...): one kernel per
// node, every buffer laid out once in a static memory plan, and the unrolled
// schedule. Steps then run forward and backward without allocating.
#ifndef RNNFLOW_RUNTIME_SESSION_H_
#define RNNFLOW_RUNTIME_SESSION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/runtime/gradient_reducer.h"
#include "rnnflow/runtime/kernel.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

struct SessionOptions {
  SymbolBindings bindings;  // e.g. {"T": 128, "N": 64}
  bool training = true;     // allocate gradients and enable Backward()
  uint64_t seed = 1;        // parameter initialisation
};

// Bytes of each part of the static memory plan.
struct MemoryPlanStats {
  int64_t activations = 0;  // every tensor's value
  int64_t gradients = 0;    // gradients of every tensor that needs one
  int64_t parameters = 0;   // parameter values (and their gradients above)
  int64_t carried = 0;      // states carried across chunks
  int64_t kernels = 0;      // kernels' own memory (oneDNN workspaces, ...)
  int64_t total() const { return activations + gradients + parameters + carried + kernels; }
};

class Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Create(const Graph& graph,
                                                         const SessionOptions& options);
  ~Session();

  const Graph& graph() const { return graph_; }
  // The size bound to "T" (1 when unbound); a recurrence over another time
  // symbol (e.g. "S") runs that symbol's size.
  int64_t T() const { return T_; }

  // The buffer of a tensor (as non-recurrent consumers see it: [T, ...] for
  // per-step tensors). Graph inputs are filled by the caller before Forward.
  Tensor value(int tensor) const { return values_[tensor]; }
  Tensor gradient(int tensor) const { return grads_[tensor]; }
  absl::StatusOr<Tensor> value(const std::string& name) const;
  absl::StatusOr<Tensor> input(const std::string& name) const;

  // Parameters, in Graph::params() order.
  const std::vector<Tensor>& params() const { return params_; }
  const std::vector<Tensor>& param_grads() const { return param_grads_; }

  // States carried across truncated-BPTT chunks (custom states without an
  // init, and unconnected initial states of fused layers).
  const std::vector<Tensor>& carried_states() const { return carried_; }
  const std::vector<std::string>& carried_state_names() const { return carried_names_; }
  // For each carried state, the axis that indexes the streams (bound to the
  // symbol "N"), or -1 when it has none. Data-parallel checkpoints gather and
  // split carried states along it.
  const std::vector<int>& carried_state_column_axes() const { return carried_column_axes_; }

  absl::Status Forward();
  // Gradients of the loss with respect to every parameter (and every tensor
  // that needs one). Requires a Forward of the same chunk before.
  absl::Status Backward();
  float loss() const;
  // A factor on the gradient Backward() seeds the loss with (default 1;
  // times the reducer's loss_gradient_scale()). Data-parallel example
  // training sets it to weight a rank's mean loss by its share of the global
  // batch, so reduced gradients equal one big batch's.
  void set_loss_gradient(float g) { loss_gradient_ = g; }

  // Training mode and the random key of the following passes (RunInfo in
  // runtime/kernel.h). A new session runs in inference mode: stochastic ops
  // are identities until a trainer sets training = true for its steps.
  void set_run_info(const RunInfo& run) { run_ = run; }
  const RunInfo& run_info() const { return run_; }

  // Data parallelism: from now on Backward() hands each parameter gradient
  // to `reducer` the moment it is final and returns after reducer->Finish().
  // The reducer must outlive the session (nullptr detaches it).
  absl::Status SetGradientReducer(GradientReducer* reducer);

  // Copies each chunk's final state into the carried state (detached).
  void CarryStates();
  // Zeroes carried states, e.g. at a document boundary.
  void ResetStates();

  const MemoryPlanStats& memory() const { return memory_; }

 private:
  struct Step;  // one kernel invocation site
  explicit Session(const Graph& graph);
  absl::Status Plan(const SessionOptions& options);
  absl::Status CreateKernels();
  void PointRecurrentViews(Step& step, int64_t t, bool backward);
  absl::Status RunForward(Step& step);
  absl::Status RunBackward(Step& step);
  absl::Status BackwardSegment(const Segment& segment, int64_t steps);

  const Graph& graph_;
  int64_t T_ = 1;
  std::vector<int64_t> segment_steps_;  // by segment: steps of a recurrence
  bool training_ = true;
  void* arena_ = nullptr;
  MemoryPlanStats memory_;
  std::vector<Tensor> values_;  // by tensor id
  std::vector<Tensor> grads_;   // by tensor id; invalid when not needed
  std::vector<Tensor> params_, param_grads_;
  std::vector<Tensor> carried_;
  std::vector<std::string> carried_names_;
  std::vector<int> carried_column_axes_;
  // (carried buffer, source tensor, is_step_tensor) for CarryStates.
  struct Carry {
    Tensor buffer;
    int source;
    bool last_step;  // copy slice T-1 of a per-step tensor
  };
  std::vector<Carry> carries_;
  std::vector<Tensor> state_init_value_, state_init_grad_;   // by state index
  std::map<std::pair<int, int>, Tensor> carried_node_slot_;  // (node, slot)
  std::pair<void*, size_t> grads_block_{nullptr, 0};
  std::vector<std::unique_ptr<Step>> steps_;  // in Graph::schedule() order
  GradientReducer* reducer_ = nullptr;
  float loss_gradient_ = 1.f;
  RunInfo run_;  // every step's KernelContext::run points here
  // For each segment, the reducer indices of the parameter gradients that
  // are final once the segment's backward has run; then those of parameters
  // no backward touches.
  std::vector<std::vector<int>> ready_after_segment_;
  std::vector<int> ready_at_end_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_SESSION_H_
