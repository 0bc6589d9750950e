// PyTorch reference cases (../shared/reference format: CASE.json with
// CASE.f32.bin and CASE.f64.bin beside it) and running them through rnnflow's
// fused recurrent ops, built through the op registry exactly as a plan would
// build them (schema shape function -> KernelInit -> KernelRegistry).
//
// Used by `rnnflow check-reference` (tools/check_reference_command.cc) and by
// tests.
#ifndef RNNFLOW_CONFORMANCE_REFERENCE_CASE_H_
#define RNNFLOW_CONFORMANCE_REFERENCE_CASE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/ops/internal/rnn_layer.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {

// ---------------------------------------------------------------------------
// Building one fused recurrent node through the registry.

struct RecurrentNodeSpec {
  std::string name = "rnn";
  std::string op;  // "RNN", "LSTM" or "GRU"
  int64_t hidden = 0;
  int64_t layers = 1;
  bool bidirectional = false;
  std::string activation = "tanh";  // RNN only
  bool linear_before_reset = true;  // GRU only
  int64_t T = 0, N = 0, C = 0;
  bool with_h0 = false;
  bool with_c0 = false;       // LSTM only
  bool with_lengths = false;  // lengths [N] INT32
  bool with_resets = false;   // resets [T,N]
  bool bf16 = false;          // attr precision: "bf16"
};

struct RecurrentNode {
  std::unique_ptr<NodeDef> node;  // attributes with defaults filled in
  std::vector<ParamSlot> params;  // as the shape function declared them
  // Declared inputs (x, h0[, c0], lengths, resets) followed by the parameters.
  std::vector<Shape> input_shapes;
  std::vector<bool> input_present;
  std::vector<DataType> input_dtypes;
  std::vector<Shape> output_shapes;  // y, h_n[, c_n]
  int num_declared_inputs = 0;
  std::unique_ptr<OpKernel> kernel;
};

// Errors carry "node 'NAME' (OP): ".
absl::StatusOr<RecurrentNode> BuildRecurrentNode(const RecurrentNodeSpec& spec);

// The cell a spec runs.
RnnCell SpecCell(const RecurrentNodeSpec& spec);

// ---------------------------------------------------------------------------
// Reference cases.

struct ReferenceTensor {
  Shape shape;
  std::vector<float> f32;   // as PyTorch computed it in float32
  std::vector<double> f64;  // the same in float64 (empty if absent)
};

struct ReferenceCase {
  std::string path;  // the .json file
  std::string name;
  std::string module;        // "LSTM", "GRU", "RNN"
  std::string nonlinearity;  // RNN: "tanh" / "relu"
  int64_t N = 0, T = 0, I = 0, H = 0, layers = 1;
  bool bidirectional = false;
  std::map<std::string, ReferenceTensor> tensors;

  const ReferenceTensor* Find(const std::string& name) const;
};

// Reads CASE.json and the binaries it names (relative to its directory).
// Every problem (missing or short file, malformed JSON, unknown module, bad
// shapes) is an error naming the file.
absl::StatusOr<ReferenceCase> LoadReferenceCase(const std::string& json_path);

// The case files listed in an index.json ("cases": [names]), as paths.
absl::StatusOr<std::vector<std::string>> ListReferenceCases(const std::string& index_path);

struct ReferenceError {
  std::string name;      // "y", "grad.weight_ih_l0", ...
  double max_rel_error;  // max |ours - f64| / max |f64| (absolute if f64 == 0)
};

struct ReferenceResult {
  std::vector<ReferenceError> errors;
  double worst = 0;
};

// Imports the case's PyTorch weights, runs forward and backward of
// L = sum(y^2) + sum(h_n^2) [+ sum(c_n^2)] (upstream gradients 2y, 2h_n,
// 2c_n from our own outputs), and compares every output and gradient (in
// PyTorch's layout) against the float64 reference.
absl::StatusOr<ReferenceResult> RunReferenceCase(const ReferenceCase& c);

}  // namespace rnnflow

#endif  // RNNFLOW_CONFORMANCE_REFERENCE_CASE_H_
