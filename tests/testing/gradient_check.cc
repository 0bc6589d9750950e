#include "tests/testing/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {

InputSpec InputSpec::Float(Shape shape, float min, float max) {
  InputSpec s;
  s.shape = std::move(shape);
  s.min = min;
  s.max = max;
  return s;
}

InputSpec InputSpec::Int(Shape shape, int32_t int_min, int32_t int_max) {
  InputSpec s;
  s.shape = std::move(shape);
  s.dtype = INT32;
  s.int_min = int_min;
  s.int_max = int_max;
  return s;
}

InputSpec InputSpec::Absent() {
  InputSpec s;
  s.present = false;
  return s;
}

SymShape KnownShape(const Shape& shape) {
  SymShape s;
  for (int64_t d : shape) s.push_back(Dim::Known(d));
  return s;
}

NodeDef MakeNode(std::vector<std::pair<std::string, AttrValue>> attrs) {
  NodeDef node;
  for (auto& [name, value] : attrs) (*node.mutable_attr())[name] = std::move(value);
  return node;
}

absl::StatusOr<ShapeFnResult> RunShapeFn(absl::string_view op, const NodeDef& node,
                                         const std::vector<const SymShape*>& shapes,
                                         const std::vector<DataType>& dtypes) {
  const OpSchema* schema = OpRegistry::Global().Find(op);
  if (schema == nullptr) return absl::NotFoundError(absl::StrCat("no op '", op, "'"));
  if (!schema->shape_fn()) {
    return absl::FailedPreconditionError(absl::StrCat("op '", op, "' has no shape fn"));
  }
  ShapeFnResult result;
  result.node = node;
  result.node.set_op(std::string(op));
  if (result.node.name().empty()) result.node.set_name("test");
  auto* attrs = result.node.mutable_attr();
  for (const AttrSpec& spec : schema->attrs()) {
    if (attrs->count(spec.name) != 0) continue;
    if (spec.required) {
      return absl::InvalidArgumentError(absl::StrCat("attribute '", spec.name, "' is required"));
    }
    (*attrs)[spec.name] = spec.default_value;
  }
  ShapeContext ctx(*schema, result.node, shapes, dtypes);
  RF_RETURN_IF_ERROR(schema->shape_fn()(ctx));
  result.output_shapes = ctx.output_shapes();
  result.output_dtypes = ctx.output_dtypes();
  result.params = ctx.params();
  return result;
}

absl::StatusOr<ShapeFnResult> RunShapeFn(absl::string_view op, const NodeDef& node,
                                         const std::vector<SymShape>& shapes,
                                         const std::vector<DataType>& dtypes) {
  std::vector<const SymShape*> ptrs;
  for (const SymShape& s : shapes) ptrs.push_back(&s);
  return RunShapeFn(op, node, ptrs, dtypes);
}

double GradientCheckResult::max_rel_error() const {
  double m = 0;
  for (const auto& in : inputs) {
    if (in.checked) m = std::max(m, in.rel_error);
  }
  return m;
}

const InputGradientError* GradientCheckResult::Find(absl::string_view name) const {
  for (const auto& in : inputs) {
    if (in.name == name) return &in;
  }
  return nullptr;
}

std::string GradientCheckResult::ToString() const {
  std::string out;
  for (const auto& in : inputs) {
    if (!in.checked) {
      absl::StrAppend(&out, "  ", in.name, ": not checked\n");
      continue;
    }
    absl::StrAppend(&out,
                    absl::StrFormat("  %s%s: rel %.3g abs %.3g max|grad| %.3g over %d elements; "
                                    "worst at %d: analytic %.6g numeric %.6g\n",
                                    in.name, in.is_param ? " (param)" : "", in.rel_error,
                                    in.max_abs_error, in.max_grad, in.num_checked, in.worst_index,
                                    in.analytic_at_worst, in.numeric_at_worst));
  }
  return out;
}

::testing::AssertionResult GradientsMatch(const absl::StatusOr<GradientCheckResult>& result,
                                          double tolerance) {
  if (!result.ok()) {
    return ::testing::AssertionFailure() << "gradient check failed to run: " << result.status();
  }
  int checked = 0;
  for (const auto& in : result->inputs) checked += in.checked;
  if (checked == 0) {
    return ::testing::AssertionFailure() << "no input was checked\n" << result->ToString();
  }
  if (result->max_rel_error() > tolerance) {
    return ::testing::AssertionFailure()
           << "gradient error " << result->max_rel_error() << " > " << tolerance << "\n"
           << result->ToString();
  }
  return ::testing::AssertionSuccess() << result->ToString();
}

namespace {

// One tensor the checker owns.
struct Buffer {
  std::vector<float> f;
  std::vector<int32_t> i;
  Tensor full;  // [T, ...] in step mode for per-step tensors

  void Allocate(DataType dtype, const Shape& shape) {
    const int64_t n = NumElements(shape);
    if (dtype == INT32) {
      i.assign(n, 0);
      full = Tensor(dtype, shape, i.data());
    } else {
      f.assign(n, 0.f);
      full = Tensor(dtype, shape, f.data());
    }
  }
};

void FillUniform(const Tensor& t, float lo, float hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t k = 0; k < t.num_elements(); ++k) t.f32()[k] = dist(rng);
}

class Harness {
 public:
  Harness(const GradientCheckOptions& opt, int num_steps) : opt_(opt), steps_(num_steps) {}

  // Per-tensor: whether it has a time axis in step mode.
  std::vector<Buffer> in, out, out_grad, in_grad;
  std::vector<bool> in_per_step;
  std::vector<bool> in_present;
  std::unique_ptr<OpKernel> kernel;

  // The view of buffer `b` passed at step t.
  Tensor View(const Buffer& b, bool per_step, int64_t t) const {
    if (!opt_.step_mode || !per_step) return b.full;
    return b.full.Slice0(t);
  }

  KernelContext Context(int64_t t, bool backward, bool with_input_grads) const {
    KernelContext ctx;
    for (size_t k = 0; k < in.size(); ++k) {
      ctx.inputs.push_back(in_present[k] ? View(in[k], in_per_step[k], t) : Tensor());
    }
    for (const Buffer& b : out) ctx.outputs.push_back(View(b, true, t));
    if (backward) {
      for (const Buffer& b : out_grad) {
        ctx.output_grads.push_back(b.full.valid() ? View(b, true, t) : Tensor());
      }
      for (size_t k = 0; k < in_grad.size(); ++k) {
        ctx.input_grads.push_back(with_input_grads && in_grad[k].full.valid()
                                      ? View(in_grad[k], in_per_step[k], t)
                                      : Tensor());
      }
    }
    if (opt_.step_mode) ctx.time_step = t;
    ctx.run = &opt_.run;
    return ctx;
  }

  absl::Status Forward() {
    for (int64_t t = 0; t < steps_; ++t) {
      KernelContext ctx = Context(t, false, false);
      RF_RETURN_IF_ERROR(kernel->Forward(ctx));
    }
    return absl::OkStatus();
  }

  absl::Status Backward(bool with_input_grads) {
    for (int64_t t = steps_ - 1; t >= 0; --t) {
      KernelContext ctx = Context(t, true, with_input_grads);
      RF_RETURN_IF_ERROR(kernel->Backward(ctx));
    }
    return absl::OkStatus();
  }

  // sum_k sum(R_k * out_k), in double.
  double Loss(const std::vector<std::vector<float>>& r) const {
    double loss = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k].f.empty()) continue;
      for (size_t e = 0; e < out[k].f.size(); ++e) {
        loss += static_cast<double>(r[k][e]) * out[k].f[e];
      }
    }
    return loss;
  }

 private:
  const GradientCheckOptions& opt_;
  int64_t steps_;
};

Shape WithTime(int64_t t, const Shape& s) {
  Shape full{t};
  full.insert(full.end(), s.begin(), s.end());
  return full;
}

}  // namespace

absl::StatusOr<GradientCheckResult> CheckGradients(absl::string_view op, const NodeDef& node,
                                                   const std::vector<InputSpec>& inputs,
                                                   const GradientCheckOptions& options) {
  const OpSchema* schema = OpRegistry::Global().Find(op);
  if (schema == nullptr) return absl::NotFoundError(absl::StrCat("no op '", op, "'"));
  if (options.step_mode && options.num_steps < 1) {
    return absl::InvalidArgumentError("num_steps must be >= 1 in step mode");
  }
  const int64_t steps = options.step_mode ? options.num_steps : 1;

  // Shape inference on the (per-step) concrete shapes.
  std::vector<SymShape> sym(inputs.size());
  std::vector<const SymShape*> sym_ptrs;
  std::vector<DataType> dtypes;
  for (size_t k = 0; k < inputs.size(); ++k) {
    sym[k] = KnownShape(inputs[k].shape);
    sym_ptrs.push_back(inputs[k].present ? &sym[k] : nullptr);
    dtypes.push_back(inputs[k].dtype);
  }
  RF_ASSIGN_OR_RETURN(ShapeFnResult shapes, RunShapeFn(op, node, sym_ptrs, dtypes));
  GradientCheckResult result;
  result.params = shapes.params;

  KernelInit init;
  init.node_name = shapes.node.name();
  init.op = std::string(op);
  init.attrs = &shapes.node.attr();
  init.step_mode = options.step_mode;
  for (const InputSpec& spec : inputs) {
    init.input_shapes.push_back(spec.present ? spec.shape : Shape{});
    init.input_dtypes.push_back(spec.dtype);
    init.input_present.push_back(spec.present);
  }
  for (const ParamSlot& p : shapes.params) {
    init.input_shapes.push_back(p.shape);
    init.input_dtypes.push_back(FLOAT32);
    init.input_present.push_back(true);
  }
  for (size_t k = 0; k < shapes.output_shapes.size(); ++k) {
    RF_ASSIGN_OR_RETURN(Shape s, Bind(shapes.output_shapes[k], {}));
    init.output_shapes.push_back(s);
    init.output_dtypes.push_back(shapes.output_dtypes[k]);
    result.output_shapes.push_back(s);
  }

  Harness h(options, static_cast<int>(steps));
  RF_ASSIGN_OR_RETURN(h.kernel, KernelRegistry::Global().Create(init));

  std::mt19937_64 rng(options.seed);
  const size_t num_in = init.input_shapes.size();
  const size_t num_declared = inputs.size();
  h.in.resize(num_in);
  h.in_grad.resize(num_in);
  h.in_per_step.resize(num_in);
  h.in_present = init.input_present;
  std::vector<bool> differentiable(num_in, true);
  for (size_t k = 0; k < num_in; ++k) {
    const bool is_param = k >= num_declared;
    if (!h.in_present[k]) {
      differentiable[k] = false;
      continue;
    }
    const bool per_step = !is_param && options.step_mode && inputs[k].per_step;
    h.in_per_step[k] = per_step;
    const Shape full = per_step ? WithTime(steps, init.input_shapes[k]) : init.input_shapes[k];
    h.in[k].Allocate(init.input_dtypes[k], full);
    const Tensor& t = h.in[k].full;
    if (is_param) {
      const std::string& slot = shapes.params[k - num_declared].name;
      if (options.param_fill) {
        options.param_fill(slot, t, rng);
      } else {
        FillUniform(t, options.param_min, options.param_max, rng);
      }
    } else if (inputs[k].fill) {
      inputs[k].fill(t, rng);
    } else if (t.dtype() == INT32) {
      std::uniform_int_distribution<int32_t> dist(inputs[k].int_min, inputs[k].int_max);
      for (int64_t e = 0; e < t.num_elements(); ++e) t.i32()[e] = dist(rng);
    } else {
      FillUniform(t, inputs[k].min, inputs[k].max, rng);
    }
    // Which inputs get gradients.
    const int schema_index =
        std::min<int>(static_cast<int>(k), static_cast<int>(schema->inputs().size()) - 1);
    if (init.input_dtypes[k] != FLOAT32 ||
        (!is_param && schema_index >= 0 && !schema->inputs()[schema_index].differentiable)) {
      differentiable[k] = false;
    }
    if (differentiable[k]) h.in_grad[k].Allocate(FLOAT32, full);
  }

  // Outputs and random output gradients R.
  const size_t num_out = init.output_shapes.size();
  h.out.resize(num_out);
  h.out_grad.resize(num_out);
  std::vector<std::vector<float>> r(num_out);
  for (size_t k = 0; k < num_out; ++k) {
    const Shape full =
        options.step_mode ? WithTime(steps, init.output_shapes[k]) : init.output_shapes[k];
    h.out[k].Allocate(init.output_dtypes[k], full);
    const bool invalid =
        init.output_dtypes[k] != FLOAT32 ||
        std::find(options.invalid_output_grads.begin(), options.invalid_output_grads.end(),
                  static_cast<int>(k)) != options.invalid_output_grads.end();
    r[k].assign(NumElements(full), 0.f);
    if (invalid) continue;
    h.out_grad[k].Allocate(FLOAT32, full);
    FillUniform(h.out_grad[k].full, -1.f, 1.f, rng);
    r[k] = h.out_grad[k].f;
  }

  // Analytic gradients.
  RF_RETURN_IF_ERROR(h.Forward());
  result.loss = h.Loss(r);
  RF_RETURN_IF_ERROR(h.Backward(/*with_input_grads=*/false));
  std::vector<std::vector<float>> before(num_in);
  for (size_t k = 0; k < num_in; ++k) {
    if (!differentiable[k]) continue;
    if (options.check_accumulation) {
      FillUniform(h.in_grad[k].full, -1.f, 1.f, rng);
    }
    before[k] = h.in_grad[k].f;
  }
  RF_RETURN_IF_ERROR(h.Backward(/*with_input_grads=*/true));

  // Numeric gradients.
  const float eps = static_cast<float>(options.epsilon);
  for (size_t k = 0; k < num_in; ++k) {
    InputGradientError err;
    err.is_param = k >= num_declared;
    err.name = err.is_param ? shapes.params[k - num_declared].name
               : schema->inputs().empty()
                   ? absl::StrCat("#", k)
                   : ShapeContext(*schema, shapes.node, {}, {}).input_name(static_cast<int>(k));
    if (!differentiable[k]) {
      result.inputs.push_back(err);
      continue;
    }
    err.checked = true;
    std::vector<float>& x = h.in[k].f;
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<int64_t> indices;
    if (options.max_elements_per_input > 0 && n > options.max_elements_per_input) {
      std::uniform_int_distribution<int64_t> pick(0, n - 1);
      for (int64_t s = 0; s < options.max_elements_per_input; ++s) {
        indices.push_back(pick(rng));
      }
    } else {
      for (int64_t e = 0; e < n; ++e) indices.push_back(e);
    }
    for (int64_t e : indices) {
      const float v = x[e];
      const float plus = v + eps;
      const float minus = v - eps;
      x[e] = plus;
      RF_RETURN_IF_ERROR(h.Forward());
      const double lp = h.Loss(r);
      x[e] = minus;
      RF_RETURN_IF_ERROR(h.Forward());
      const double lm = h.Loss(r);
      x[e] = v;
      const double numeric = (lp - lm) / (static_cast<double>(plus) - minus);
      const double analytic =
          static_cast<double>(h.in_grad[k].f[e]) - static_cast<double>(before[k][e]);
      const double diff = std::fabs(analytic - numeric);
      err.max_grad = std::max({err.max_grad, std::fabs(analytic), std::fabs(numeric)});
      if (diff > err.max_abs_error || err.worst_index < 0) {
        err.max_abs_error = diff;
        err.worst_index = e;
        err.analytic_at_worst = analytic;
        err.numeric_at_worst = numeric;
      }
      ++err.num_checked;
    }
    err.rel_error = err.max_abs_error / std::max(err.max_grad, options.abs_floor);
    result.inputs.push_back(err);
  }
  return result;
}

}  // namespace rnnflow
