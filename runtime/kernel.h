// The interface between the runtime and the kernels in ops/.
//
// One OpKernel is created per graph node when a plan is compiled for
// concrete sizes (T, N); that is where oneDNN primitives are created, once.
// The scheduler then calls Forward and Backward on views of planned buffers.
//
// A node on a recurrence (a custom cell) runs once per time step: its kernel
// is created with per-step shapes ([N, C]) and called T times, with `time_step`
// set. Every other node runs once per chunk over the whole [T, N, ...] tensors.
#ifndef RNNFLOW_RUNTIME_KERNEL_H_
#define RNNFLOW_RUNTIME_KERNEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/tensor.h"

namespace dnnl {
class engine;
class stream;
}  // namespace dnnl

namespace rnnflow {

// Everything a kernel may know when it is created.
struct KernelInit {
  std::string node_name;  // the user's node name, for error messages
  std::string op;
  // All attributes of the schema, with defaults filled in.
  const google::protobuf::Map<std::string, AttrValue>* attrs = nullptr;
  // Inputs: the node's declared inputs in schema order followed by its
  // parameter slots. An absent optional input has an empty shape and
  // input_present[i] == false.
  std::vector<Shape> input_shapes;
  std::vector<DataType> input_dtypes;
  std::vector<bool> input_present;
  // For each input, the axis of the view this node sees that is bound to the
  // batch symbol "N" (columns), or -1. Lets random draws be keyed by global
  // column (RunInfo::first_column).
  std::vector<int> input_column_axes;
  std::vector<Shape> output_shapes;
  std::vector<DataType> output_dtypes;
  bool step_mode = false;  // runs once per time step
  dnnl::engine* engine = nullptr;
  dnnl::stream* stream = nullptr;

  int64_t GetInt(absl::string_view name) const;
  float GetFloat(absl::string_view name) const;
  std::string GetString(absl::string_view name) const;
  bool GetBool(absl::string_view name) const;
  std::vector<int64_t> GetInts(absl::string_view name) const;

  // "node 'enc' (LSTM): <message>", the prefix every kernel error carries.
  absl::Status Error(absl::string_view message) const;
};

// How the current pass runs, set by whoever drives a session (the trainer)
// and read by kernels through KernelContext::run.
struct RunInfo {
  // Training passes activate stochastic ops (Dropout); every other pass
  // (validation, eval, predict, generate, decode) runs them as identities.
  bool training = false;
  // The key of counter-based random draws (runtime/counter_rng.h): a draw is
  // a pure function of (seed, step, node, global column, element within the
  // column), so runs repeat, a resumed run draws what the uninterrupted one
  // would have, and R data-parallel workers of N columns draw exactly what one
  // process of R x N columns draws.
  uint64_t seed = 0;
  int64_t step = 0;
  // The global index of this worker's first batch column: rank x N, as every
  // data path hands rank r the columns [rN, (r + 1)N).
  int64_t first_column = 0;
};

// The buffers of one call. Gradient tensors follow one rule: kernels ADD into
// input gradients (a tensor may feed several consumers; the scheduler zeroes
// gradient buffers before the backward pass). An input gradient that nobody
// needs is an invalid (null) tensor and must be skipped.
struct KernelContext {
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  std::vector<Tensor> output_grads;  // backward only
  std::vector<Tensor> input_grads;   // backward only; add into these
  int64_t time_step = -1;            // >= 0 in step mode
  dnnl::stream* stream = nullptr;
  const RunInfo* run = nullptr;  // null: an inference pass
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual absl::Status Forward(KernelContext& ctx) = 0;
  // Called after Forward of the same chunk, with outputs still intact.
  virtual absl::Status Backward(KernelContext& ctx) = 0;
  // Bytes the kernel allocated for itself when it was created (oneDNN
  // workspaces, scratchpads, weight layouts, internal buffers), so the memory
  // plan can state the whole peak before the first step.
  virtual int64_t internal_bytes() const { return 0; }
};

using KernelFactory = std::function<absl::StatusOr<std::unique_ptr<OpKernel>>(const KernelInit&)>;

// Kernels register themselves once, by op name.
class KernelRegistry {
 public:
  static KernelRegistry& Global();
  void Register(const std::string& op, KernelFactory factory);
  const KernelFactory* Find(absl::string_view op) const;
  absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelInit& init) const;

 private:
  std::vector<std::pair<std::string, KernelFactory>> factories_;
};

struct KernelRegistrar {
  KernelRegistrar(const char* op, KernelFactory factory) {
    KernelRegistry::Global().Register(op, std::move(factory));
  }
};

#define RF_REGISTER_KERNEL(op, factory) \
  static ::rnnflow::KernelRegistrar RF_CONCAT_(rf_kernel_reg_, __LINE__)(op, factory)

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_KERNEL_H_
