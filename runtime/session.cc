#include "rnnflow/runtime/session.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/runtime/initializer.h"

namespace rnnflow {
namespace {

constexpr size_t kAlign = 64;

size_t RoundUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// The axis of a symbolic shape bound to "N" (the streams, or columns), or -1.
int ColumnAxis(const SymShape& shape) {
  for (size_t a = 0; a < shape.size(); ++a) {
    if (!shape[a].known() && shape[a].symbol == "N") return static_cast<int>(a);
  }
  return -1;
}

}  // namespace

// How one kernel argument finds its buffer at time step t.
struct Binding {
  enum Mode { kAbsent, kFull, kSliceT, kState };
  Mode mode = kAbsent;
  Tensor base;            // the full buffer (kFull, kSliceT)
  size_t step_bytes = 0;  // bytes per time step (kSliceT, kState)
  int state = -1;         // state index (kState)
  Tensor update;          // the state's update buffer, [T, ...] (kState)
};

struct Session::Step {
  int node = -1;
  bool recurrent = false;
  bool needs_backward = false;
  std::unique_ptr<OpKernel> kernel;
  KernelContext ctx;
  std::vector<Binding> in, out, in_grad, out_grad;
};

Session::Session(const Graph& graph) : graph_(graph) {}

Session::~Session() { std::free(arena_); }

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const Graph& graph,
                                                         const SessionOptions& options) {
  std::unique_ptr<Session> s(new Session(graph));
  RF_RETURN_IF_ERROR(s->Plan(options));
  RF_RETURN_IF_ERROR(s->CreateKernels());
  return s;
}

absl::StatusOr<Tensor> Session::value(const std::string& name) const {
  int id = graph_.FindTensor(name);
  if (id < 0 || !values_[id].valid()) {
    return absl::NotFoundError(absl::StrCat("no tensor named '", name, "' in the model"));
  }
  return values_[id];
}

absl::StatusOr<Tensor> Session::input(const std::string& name) const {
  int id = graph_.FindTensor(name);
  if (id < 0 || graph_.tensor(id).source != TensorSource::kGraphInput) {
    return absl::NotFoundError(absl::StrCat("the model has no graph input '", name, "'"));
  }
  return values_[id];
}

absl::Status Session::Plan(const SessionOptions& options) {
  training_ = options.training;
  auto t_it = options.bindings.find(kDefaultTimeSymbol);
  T_ = t_it == options.bindings.end() ? 1 : t_it->second;
  // Each recurrence runs over its own time axis (e.g. an encoder over S).
  segment_steps_.assign(graph_.segments().size(), 0);
  for (size_t k = 0; k < graph_.segments().size(); ++k) {
    const Segment& seg = graph_.segments()[k];
    if (!seg.recurrent) continue;
    auto it = options.bindings.find(seg.time_symbol);
    if (it == options.bindings.end() || it->second < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the recurrence of node '", graph_.nodes()[graph_.schedule()[seg.begin]].def->name(),
          "' runs over time axis ", seg.time_symbol, ", which is not bound to a positive size"));
    }
    segment_steps_[k] = it->second;
  }
  const auto& tensors = graph_.tensors();
  const int n = static_cast<int>(tensors.size());

  // Concrete shapes of every buffer.
  std::vector<Shape> shapes(n);
  std::vector<bool> has_value(n, false), has_grad(n, false);
  for (int i = 0; i < n; ++i) {
    const TensorInfo& t = tensors[i];
    if (t.source == TensorSource::kState) continue;  // aliases, see Binding::kState
    auto bound = Bind(t.StackedShape(), options.bindings);
    if (!bound.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", t.name, "': ", bound.status().message()));
    }
    shapes[i] = *std::move(bound);
    has_value[i] = true;
    has_grad[i] = training_ && t.requires_grad;
  }

  // Lay out: values, parameters, gradients (one contiguous block, zeroed
  // with one memset), carried states.
  size_t offset = 0;
  std::vector<size_t> value_off(n), grad_off(n);
  auto bytes = [&](int i) { return NumElements(shapes[i]) * DataTypeSize(tensors[i].dtype); };
  for (int pass = 0; pass < 2; ++pass) {  // 0: activations, 1: parameters
    for (int i = 0; i < n; ++i) {
      if (!has_value[i] || (tensors[i].source == TensorSource::kParam) != (pass == 1)) continue;
      value_off[i] = offset;
      offset += RoundUp(bytes(i));
      (pass == 0 ? memory_.activations : memory_.parameters) += bytes(i);
    }
  }
  const size_t grads_begin = offset;
  for (int i = 0; i < n; ++i) {
    if (!has_grad[i]) continue;
    grad_off[i] = offset;
    offset += RoundUp(bytes(i));
    memory_.gradients += bytes(i);
  }
  const size_t grads_end = offset;

  // Carried states: custom states without an init, then unconnected
  // initial states of fused layers.
  struct CarrySpec {
    std::string name;
    Shape shape;
    int source;
    bool last_step;
    int state = -1;
    int node = -1, slot = -1;
    int column_axis = -1;
  };
  std::vector<CarrySpec> specs;
  for (size_t s = 0; s < graph_.states().size(); ++s) {
    const StateInfo& st = graph_.states()[s];
    if (st.init >= 0) continue;
    RF_ASSIGN_OR_RETURN(Shape shape, Bind(tensors[st.tensor].shape, options.bindings));
    specs.push_back({st.name, shape, st.update, true, static_cast<int>(s), -1, -1,
                     ColumnAxis(tensors[st.tensor].shape)});
  }
  for (const NodeInfo& node : graph_.nodes()) {
    for (auto [slot, out] : node.carried) {
      int src = node.outputs[out];
      specs.push_back({absl::StrCat(node.def->name(), ":", node.schema->inputs()[slot].name),
                       shapes[src], src, false, -1, node.index, slot,
                       ColumnAxis(tensors[src].StackedShape())});
    }
  }
  std::vector<size_t> carry_off;
  for (const CarrySpec& c : specs) {
    carry_off.push_back(offset);
    offset += RoundUp(NumElements(c.shape) * sizeof(float));
    memory_.carried += NumElements(c.shape) * sizeof(float);
  }

  arena_ = std::aligned_alloc(kAlign, std::max<size_t>(offset, kAlign));
  if (arena_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate the memory plan (", offset, " bytes)"));
  }
  std::memset(arena_, 0, offset);
  char* base = static_cast<char*>(arena_);
  grads_block_ = {base + grads_begin, grads_end - grads_begin};

  values_.assign(n, Tensor());
  grads_.assign(n, Tensor());
  for (int i = 0; i < n; ++i) {
    if (has_value[i]) values_[i] = Tensor(tensors[i].dtype, shapes[i], base + value_off[i]);
    if (has_grad[i]) grads_[i] = Tensor(tensors[i].dtype, shapes[i], base + grad_off[i]);
  }
  for (const ParamInfo& p : graph_.params()) {
    params_.push_back(values_[p.tensor]);
    param_grads_.push_back(grads_[p.tensor]);
    RF_RETURN_IF_ERROR(InitializeTensor(p.init, p.name, options.seed, values_[p.tensor]));
  }

  state_init_value_.assign(graph_.states().size(), Tensor());
  state_init_grad_.assign(graph_.states().size(), Tensor());
  for (size_t s = 0; s < graph_.states().size(); ++s) {
    const StateInfo& st = graph_.states()[s];
    if (st.init >= 0) {
      state_init_value_[s] = values_[st.init];
      state_init_grad_[s] = grads_[st.init];
    }
  }
  carried_node_slot_.clear();
  for (size_t c = 0; c < specs.size(); ++c) {
    Tensor buf(FLOAT32, specs[c].shape, base + carry_off[c]);
    carried_.push_back(buf);
    carried_names_.push_back(specs[c].name);
    carried_column_axes_.push_back(specs[c].column_axis);
    carries_.push_back({buf, specs[c].source, specs[c].last_step});
    if (specs[c].state >= 0) state_init_value_[specs[c].state] = buf;
    if (specs[c].node >= 0) carried_node_slot_[{specs[c].node, specs[c].slot}] = buf;
  }
  return absl::OkStatus();
}

absl::Status Session::CreateKernels() {
  const auto& tensors = graph_.tensors();
  for (int node_id : graph_.schedule()) {
    const NodeInfo& node = graph_.nodes()[node_id];
    auto step = std::make_unique<Step>();
    step->node = node_id;
    step->recurrent = node.recurrent;
    step->needs_backward = training_ && node.needs_backward;
    step->ctx.run = &run_;

    KernelInit init;
    init.node_name = node.def->name();
    init.op = node.def->op();
    init.attrs = &node.def->attr();
    init.step_mode = node.recurrent;

    // A buffer as this node sees it: whole, or one time step of it.
    auto bind = [&](int t, Tensor full, bool is_grad) {
      Binding b;
      if (t < 0) return b;
      const TensorInfo& ti = tensors[t];
      if (ti.source == TensorSource::kState) {
        const StateInfo& st = graph_.states()[ti.index];
        b.mode = Binding::kState;
        b.state = ti.index;
        b.update = is_grad ? grads_[st.update] : values_[st.update];
        b.base = b.update.valid() ? b.update.Slice0(0) : Tensor();
        if (is_grad && !b.update.valid()) b.mode = Binding::kAbsent;
        return b;
      }
      if (!full.valid()) return b;
      b.base = full;
      const bool sliced = node.recurrent && ti.time != TimeKind::kStatic;
      b.mode = sliced ? Binding::kSliceT : Binding::kFull;
      if (sliced) b.step_bytes = full.Slice0(0).num_bytes();
      return b;
    };
    auto view = [](const Binding& b) {
      if (b.mode == Binding::kAbsent) return Tensor();
      if (b.mode == Binding::kFull) return b.base;
      return b.mode == Binding::kState ? b.base : b.base.Slice0(0);
    };

    const size_t n_in = node.inputs.size();
    for (size_t k = 0; k < n_in; ++k) {
      const int t = node.inputs[k];
      Binding b = bind(t, t >= 0 ? values_[t] : Tensor(), false);
      if (t < 0) {
        auto it = carried_node_slot_.find({node_id, static_cast<int>(k)});
        if (it != carried_node_slot_.end()) {
          b.mode = Binding::kFull;
          b.base = it->second;
        }
      }
      const bool differentiable =
          static_cast<int>(k) >= node.num_declared_inputs ||
          node.schema->inputs()[std::min(k, node.schema->inputs().size() - 1)].differentiable;
      Binding g =
          (step->needs_backward && differentiable && t >= 0) ? bind(t, grads_[t], true) : Binding();
      Tensor v = view(b);
      init.input_shapes.push_back(v.shape());
      init.input_dtypes.push_back(t >= 0 ? tensors[t].dtype : FLOAT32);
      init.input_present.push_back(b.mode != Binding::kAbsent);
      int axis = t >= 0 ? ColumnAxis(tensors[t].shape) : -1;
      if (b.mode == Binding::kSliceT && axis >= 0) --axis;  // the step view drops T
      init.input_column_axes.push_back(axis);
      step->in.push_back(b);
      step->in_grad.push_back(g);
      step->ctx.inputs.push_back(v);
      step->ctx.input_grads.push_back(view(g));
    }
    for (int out : node.outputs) {
      Binding b = bind(out, values_[out], false);
      Binding g = step->needs_backward ? bind(out, grads_[out], true) : Binding();
      Tensor v = view(b);
      init.output_shapes.push_back(v.shape());
      init.output_dtypes.push_back(tensors[out].dtype);
      step->out.push_back(b);
      step->out_grad.push_back(g);
      step->ctx.outputs.push_back(v);
      step->ctx.output_grads.push_back(view(g));
    }
    RF_ASSIGN_OR_RETURN(step->kernel, KernelRegistry::Global().Create(init));
    memory_.kernels += step->kernel->internal_bytes();
    steps_.push_back(std::move(step));
  }
  return absl::OkStatus();
}

void Session::PointRecurrentViews(Step& step, int64_t t, bool backward) {
  auto point = [&](const Binding& b, Tensor& view, bool is_grad) {
    switch (b.mode) {
      case Binding::kAbsent:
      case Binding::kFull:
        return;
      case Binding::kSliceT:
        view.set_data(static_cast<char*>(b.base.data()) + t * b.step_bytes);
        return;
      case Binding::kState: {
        if (t == 0) {
          const Tensor& init = is_grad ? state_init_grad_[b.state] : state_init_value_[b.state];
          view.set_data(init.data());  // null when the initial state takes no gradient
        } else {
          view.set_data(static_cast<char*>(b.update.data()) +
                        (t - 1) * b.update.Slice0(0).num_bytes());
        }
        return;
      }
    }
  };
  for (size_t k = 0; k < step.in.size(); ++k) point(step.in[k], step.ctx.inputs[k], false);
  for (size_t k = 0; k < step.out.size(); ++k) point(step.out[k], step.ctx.outputs[k], false);
  if (!backward) return;
  for (size_t k = 0; k < step.in_grad.size(); ++k) {
    point(step.in_grad[k], step.ctx.input_grads[k], true);
  }
  for (size_t k = 0; k < step.out_grad.size(); ++k) {
    point(step.out_grad[k], step.ctx.output_grads[k], true);
  }
}

absl::Status Session::RunForward(Step& step) { return step.kernel->Forward(step.ctx); }

absl::Status Session::RunBackward(Step& step) { return step.kernel->Backward(step.ctx); }

absl::Status Session::Forward() {
  for (size_t k = 0; k < graph_.segments().size(); ++k) {
    const Segment& seg = graph_.segments()[k];
    if (!seg.recurrent) {
      RF_RETURN_IF_ERROR(RunForward(*steps_[seg.begin]));
      continue;
    }
    for (int64_t t = 0; t < segment_steps_[k]; ++t) {
      for (int i = seg.begin; i < seg.end; ++i) {
        Step& s = *steps_[i];
        PointRecurrentViews(s, t, false);
        s.ctx.time_step = t;
        absl::Status st = RunForward(s);
        if (!st.ok()) {
          return absl::Status(st.code(), absl::StrCat(st.message(), " (at time step ", t, ")"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Session::Backward() {
  if (!training_) {
    return absl::FailedPreconditionError("this session was created for inference only");
  }
  const int loss = graph_.loss();
  if (loss < 0) return absl::FailedPreconditionError("the model has no loss");
  std::memset(grads_block_.first, 0, grads_block_.second);
  if (grads_[loss].valid()) {
    grads_[loss].f32()[0] =
        loss_gradient_ * (reducer_ != nullptr ? reducer_->loss_gradient_scale() : 1.f);
  }

  const auto& segments = graph_.segments();
  for (size_t k = segments.size(); k-- > 0;) {
    RF_RETURN_IF_ERROR(BackwardSegment(segments[k], segment_steps_[k]));
    if (reducer_ != nullptr) {
      for (int i : ready_after_segment_[k]) RF_RETURN_IF_ERROR(reducer_->Ready(i));
    }
  }
  if (reducer_ != nullptr) {
    for (int i : ready_at_end_) RF_RETURN_IF_ERROR(reducer_->Ready(i));
    RF_RETURN_IF_ERROR(reducer_->Finish());
  }
  return absl::OkStatus();
}

absl::Status Session::BackwardSegment(const Segment& seg, int64_t steps) {
  if (!seg.recurrent) {
    Step& s = *steps_[seg.begin];
    return s.needs_backward ? RunBackward(s) : absl::OkStatus();
  }
  for (int64_t t = steps - 1; t >= 0; --t) {
    for (int i = seg.end; i-- > seg.begin;) {
      Step& s = *steps_[i];
      if (!s.needs_backward) continue;
      PointRecurrentViews(s, t, true);
      s.ctx.time_step = t;
      absl::Status st = RunBackward(s);
      if (!st.ok()) {
        return absl::Status(st.code(), absl::StrCat(st.message(), " (at time step ", t, ")"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Session::SetGradientReducer(GradientReducer* reducer) {
  reducer_ = reducer;
  ready_after_segment_.assign(graph_.segments().size(), {});
  ready_at_end_.clear();
  if (reducer == nullptr) return absl::OkStatus();
  if (!training_) {
    return absl::FailedPreconditionError("an inference session has no gradients to reduce");
  }
  // A parameter's gradient is final after the backward of the earliest
  // (in forward order) segment that consumes it.
  std::vector<int> schedule_segment(steps_.size());
  for (size_t k = 0; k < graph_.segments().size(); ++k) {
    for (int i = graph_.segments()[k].begin; i < graph_.segments()[k].end; ++i) {
      schedule_segment[i] = static_cast<int>(k);
    }
  }
  std::vector<int> final_segment(graph_.params().size(), -1);
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (!steps_[i]->needs_backward) continue;
    for (int t : graph_.nodes()[steps_[i]->node].inputs) {
      if (t < 0 || graph_.tensor(t).source != TensorSource::kParam) continue;
      int& f = final_segment[graph_.tensor(t).index];
      if (f < 0 || schedule_segment[i] < f) f = schedule_segment[i];
    }
  }
  std::vector<Tensor> order;
  for (size_t k = graph_.segments().size(); k-- > 0;) {
    for (size_t p = 0; p < final_segment.size(); ++p) {
      if (final_segment[p] != static_cast<int>(k)) continue;
      ready_after_segment_[k].push_back(static_cast<int>(order.size()));
      order.push_back(param_grads_[p]);
    }
  }
  for (size_t p = 0; p < final_segment.size(); ++p) {
    if (final_segment[p] >= 0) continue;
    ready_at_end_.push_back(static_cast<int>(order.size()));
    order.push_back(param_grads_[p]);
  }
  return reducer->Plan(order);
}

float Session::loss() const {
  const int loss = graph_.loss();
  return loss < 0 ? 0.f : values_[loss].f32()[0];
}

void Session::CarryStates() {
  for (const Carry& c : carries_) {
    const Tensor& src = values_[c.source];
    const void* from = c.last_step ? src.Slice0(src.dim(0) - 1).data() : src.data();
    std::memcpy(c.buffer.data(), from, c.buffer.num_bytes());
  }
}

void Session::ResetStates() {
  for (const Tensor& t : carried_) t.SetZero();
}

}  // namespace rnnflow
