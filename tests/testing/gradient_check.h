// A reusable finite-difference gradient checker for OpKernels, plus a helper
// that runs an op's shape function on concrete or symbolic shapes.
//
// CheckGradients(op, node, inputs, options):
//   1. looks up the op's schema, fills attribute defaults into `node`, runs
//      the shape function on the (concrete) input shapes to get the output
//      shapes and the parameter slots (which become extra inputs after the
//      declared ones, as in a compiled plan);
//   2. creates the kernel through KernelRegistry with those shapes;
//   3. fills inputs (random floats / ints in a range, or a callback) and
//      parameters, and draws a random R_k for every output k;
//   4. runs Forward and Backward with output_grads = R, i.e. the gradient of
//      loss = sum_k sum(R_k * output_k), accumulated in double;
//   5. compares the gradient of every differentiable, present float input
//      (and parameter) with central differences
//      (loss(x + eps) - loss(x - eps)) / 2eps.
// It also checks the kernel contract: input gradients are pre-filled with
// random values and must be ADDED to (check_accumulation), and a Backward
// with every input gradient invalid (nobody needs it) must succeed.
//
// In step mode the kernel is created with per-step shapes and step_mode set,
// and the checker drives it like the executor drives a recurrent cell:
// Forward for t = 0..T-1 on time-step views of [T, ...] buffers, then
// Backward for t = T-1..0. Inputs with per_step = false (and parameters) are
// shared by all steps, so their gradients accumulate over steps.
//
// Typical use from gtest:
//   NodeDef node;
//   (*node.mutable_attr())["units"] = IntAttr(3);
//   auto r = CheckGradients("Dense", node, {InputSpec::Float({2, 5, 4})});
//   EXPECT_TRUE(GradientsMatch(r, 1e-2));
#ifndef RNNFLOW_TESTS_TESTING_GRADIENT_CHECK_H_
#define RNNFLOW_TESTS_TESTING_GRADIENT_CHECK_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/kernel.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

// How to create and fill one declared input of the op under test.
struct InputSpec {
  Shape shape;  // concrete; the per-step shape in step mode
  DataType dtype = FLOAT32;
  bool present = true;   // false: an absent optional input
  bool per_step = true;  // step mode only: false = one tensor for all steps
  float min = -1.f;      // FLOAT32: uniform in [min, max]
  float max = 1.f;
  int32_t int_min = 0;  // INT32: uniform in [int_min, int_max]
  int32_t int_max = 0;
  // When set, fills the tensor instead of the ranges above. In step mode a
  // per-step input's tensor is the whole [T, ...shape] buffer.
  std::function<void(const Tensor&, std::mt19937_64&)> fill;

  static InputSpec Float(Shape shape, float min = -1.f, float max = 1.f);
  static InputSpec Int(Shape shape, int32_t int_min, int32_t int_max);
  static InputSpec Absent();
};

struct GradientCheckOptions {
  double epsilon = 1e-3;    // central-difference step
  double abs_floor = 1e-3;  // relative errors divide by max(max|grad|, this)
  uint64_t seed = 1;
  bool step_mode = false;
  int64_t num_steps = 3;  // T in step mode
  // Parameter slots (declared by the shape function) are uniform in this
  // range unless param_fill is set (called with the slot name).
  float param_min = -0.5f;
  float param_max = 0.5f;
  std::function<void(const std::string& slot, const Tensor&, std::mt19937_64&)> param_fill;
  // 0 = check every element; otherwise a random sample of this many per input.
  int64_t max_elements_per_input = 0;
  // Outputs whose gradient is passed as an invalid tensor (= zero), e.g. to
  // check that a kernel copes with unused outputs.
  std::vector<int> invalid_output_grads;
  // Pre-fill input gradients with random values and check they are added to.
  bool check_accumulation = true;
  // The pass every Forward and Backward sees (KernelContext::run). The
  // default is an inference pass; a training RunInfo fixes stochastic ops'
  // draws (a Dropout mask), so finite differences see one function.
  RunInfo run;
};

struct InputGradientError {
  std::string name;  // "x", "values[1]", or a parameter slot "kernel"
  bool is_param = false;
  bool checked = false;      // false: non-differentiable, INT32 or absent
  int64_t num_checked = 0;   // elements compared
  double max_abs_error = 0;  // max |analytic - numeric|
  double max_grad = 0;       // max(|analytic|, |numeric|) over the elements
  double rel_error = 0;      // max_abs_error / max(max_grad, abs_floor)
  int64_t worst_index = -1;  // flat index (into the [T, ...] buffer in step mode)
  double analytic_at_worst = 0;
  double numeric_at_worst = 0;
};

struct GradientCheckResult {
  std::vector<InputGradientError> inputs;  // declared inputs, then parameters
  std::vector<Shape> output_shapes;        // per-step shapes in step mode
  std::vector<ParamSlot> params;
  double loss = 0;  // sum(R * outputs) at the inputs

  double max_rel_error() const;
  const InputGradientError* Find(absl::string_view name) const;
  std::string ToString() const;
};

absl::StatusOr<GradientCheckResult> CheckGradients(absl::string_view op, const NodeDef& node,
                                                   const std::vector<InputSpec>& inputs,
                                                   const GradientCheckOptions& options = {});

// Passes when `result` is OK and every checked input has rel_error <= tol;
// the failure message lists every input's errors.
::testing::AssertionResult GradientsMatch(const absl::StatusOr<GradientCheckResult>& result,
                                          double tolerance);

// What an op's shape function produced.
struct ShapeFnResult {
  std::vector<SymShape> output_shapes;
  std::vector<DataType> output_dtypes;
  std::vector<ParamSlot> params;
  NodeDef node;  // the node with attribute defaults filled in
};

// Runs `op`'s shape function like graph validation does, after filling in
// attribute defaults (a missing required attribute gives "attribute 'x' is
// required"). A nullptr shape marks an absent optional input. Errors are the
// shape function's own, without a node prefix.
absl::StatusOr<ShapeFnResult> RunShapeFn(absl::string_view op, const NodeDef& node,
                                         const std::vector<const SymShape*>& shapes,
                                         const std::vector<DataType>& dtypes);
// Convenience: all inputs present.
absl::StatusOr<ShapeFnResult> RunShapeFn(absl::string_view op, const NodeDef& node,
                                         const std::vector<SymShape>& shapes,
                                         const std::vector<DataType>& dtypes);

// [2,3] -> SymShape of known dims.
SymShape KnownShape(const Shape& shape);

// Attribute helpers for tests: node with the given attrs.
NodeDef MakeNode(std::vector<std::pair<std::string, AttrValue>> attrs);

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_GRADIENT_CHECK_H_
