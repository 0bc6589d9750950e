// Kernels of the fused recurrent ops RNN, LSTM and GRU (graph/op_defs_rnn.cc):
// a stack of `layers` single-layer oneDNN primitives (ops/internal/rnn_layer.h).
//
// Inputs: x [T,N,C], h0 [L*D,N,H] (optional), c0 (LSTM, optional), lengths
// [N] and resets [T,N] (optional), then the parameters in declaration order:
// per layer k and direction d, w_x [I_k,G*H], w_h [H,G*H], b [Gb,H].
// Outputs: y [T,N,D*H], h_n, [c_n].
//
// Without lengths and resets each layer is one RnnLayer (one primitive pair);
// with either, an RnnVarlenLayer (ops/internal/rnn_varlen_layer.h). The choice is made
// when the kernel is created, from which inputs are connected.
// Layer k's slice of h0/h_n/c0/c_n is rows [k*D, (k+1)*D), which is exactly
// the [D,N,H] `ldnc` state of a one-layer primitive.
//
// The primitives run on the engine/stream of KernelInit (or the process-wide
// CPU ones, ops/internal/dnnl_context.h); KernelContext::stream is not used. Every
// call waits for its primitives to finish.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/ops/internal/dnnl_context.h"
#include "rnnflow/ops/internal/rnn_layer.h"
#include "rnnflow/ops/internal/rnn_varlen_layer.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

bool HasAttr(const KernelInit& init, const char* name) {
  return init.attrs != nullptr && init.attrs->find(name) != init.attrs->end();
}

// Creates a Layer (RnnLayer or RnnVarlenLayer). Where oneDNN has no bf16
// kernel for this cell on this CPU (no AVX512-BF16 or AMX) the model still
// runs, in float32: config.bf16 is cleared and the log says so once.
template <typename Layer>
absl::StatusOr<std::unique_ptr<Layer>> CreateLayer(RnnLayerConfig& config,
                                                   const dnnl::engine& engine,
                                                   const dnnl::stream& stream,
                                                   const std::string& prefix) {
  auto layer = Layer::Create(config, engine, stream);
  if (!layer.ok() && config.bf16 && absl::IsInternal(layer.status())) {
    std::cerr << prefix << "precision \"bf16\" is not available on this CPU ("
              << layer.status().message() << "); computing in float32\n";
    config.bf16 = false;
    layer = Layer::Create(config, engine, stream);
  }
  return layer;
}

class RecurrentKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelInit& init) {
    std::unique_ptr<RecurrentKernel> k(new RecurrentKernel());
    RF_RETURN_IF_ERROR(k->Init(init));
    return std::unique_ptr<OpKernel>(std::move(k));
  }

  absl::Status Forward(KernelContext& ctx) override;
  absl::Status Backward(KernelContext& ctx) override;
  int64_t internal_bytes() const override {
    int64_t bytes = 0;
    for (const auto& layer : stack_) bytes += layer->internal_bytes();
    for (const auto& layer : varlen_stack_) bytes += layer->internal_bytes();
    for (const auto* list : {&hidden_, &hidden_grad_}) {
      for (const auto& v : *list) bytes += static_cast<int64_t>(v.size() * sizeof(float));
    }
    for (const auto* v : {&dx_, &dh0_, &dc0_})
      bytes += static_cast<int64_t>(v->size() * sizeof(float));
    return bytes;
  }

 private:
  RecurrentKernel() = default;
  absl::Status Init(const KernelInit& init);
  absl::Status Error(absl::string_view message) const {
    return absl::Status(absl::StatusCode::kInvalidArgument, absl::StrCat(prefix_, message));
  }
  // Adds a status' message to our prefix.
  absl::Status Wrap(const absl::Status& s) const {
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat(prefix_, s.message()));
  }
  int param_index(int64_t layer, int dir, int which) const {
    return num_declared_ + static_cast<int>((layer * d_ + dir) * 3 + which);
  }

  std::string prefix_;  // "node 'enc' (LSTM): "
  RnnCell cell_ = RnnCell::kLstm;
  bool lstm_ = false;
  bool bf16_ = false;  // mixed precision (attr precision: "bf16")
  // Every length in [1, T], every reset 0 or 1; errors name the column.
  absl::Status CheckMasks(const KernelContext& ctx) const;

  int num_declared_ = 4;  // x, h0 [, c0], lengths, resets
  int lengths_index_ = 2;
  bool varlen_ = false;
  int64_t t_ = 0, n_ = 0, c_ = 0, h_ = 0, layers_ = 1;
  int d_ = 1;
  std::vector<std::unique_ptr<RnnLayer>> stack_;               // fast path
  std::vector<std::unique_ptr<RnnVarlenLayer>> varlen_stack_;  // lengths/resets
  // Between layers: outputs of layers 0..L-2 and their gradients.
  std::vector<std::vector<float>> hidden_, hidden_grad_;
  std::vector<float> dx_, dh0_, dc0_;  // overwritten by the primitives
  std::vector<RnnDirWeights> weights_;
  std::vector<RnnDirGrads> grads_;
};

absl::Status RecurrentKernel::Init(const KernelInit& init) {
  prefix_ = absl::StrCat("node '", init.node_name, "' (", init.op, "): ");
  if (init.op == "LSTM") {
    cell_ = RnnCell::kLstm;
  } else if (init.op == "GRU") {
    const bool lbr =
        HasAttr(init, "linear_before_reset") ? init.GetBool("linear_before_reset") : true;
    cell_ = lbr ? RnnCell::kLbrGru : RnnCell::kGru;
  } else if (init.op == "RNN") {
    const std::string act = HasAttr(init, "activation") ? init.GetString("activation") : "tanh";
    if (act == "tanh") {
      cell_ = RnnCell::kRnnTanh;
    } else if (act == "relu") {
      cell_ = RnnCell::kRnnRelu;
    } else {
      return Error(
          absl::StrCat("unsupported activation \"", act, "\" (expected \"tanh\" or \"relu\")"));
    }
  } else {
    return Error("not a recurrent op");
  }
  lstm_ = cell_ == RnnCell::kLstm;
  num_declared_ = lstm_ ? 5 : 4;
  lengths_index_ = lstm_ ? 3 : 2;
  if (init.step_mode) {
    return Error("fused recurrent layers run over whole sequences, not per step");
  }
  h_ = init.GetInt("hidden");
  layers_ = HasAttr(init, "layers") ? init.GetInt("layers") : 1;
  const std::string direction =
      HasAttr(init, "direction") ? init.GetString("direction") : "forward";
  if (direction != "forward" && direction != "bidirectional") {
    return Error(absl::StrCat("unsupported direction \"", direction, "\""));
  }
  d_ = direction == "bidirectional" ? 2 : 1;
  const std::string precision = HasAttr(init, "precision") ? init.GetString("precision") : "f32";
  if (precision != "f32" && precision != "bf16") {
    return Error(
        absl::StrCat("unsupported precision \"", precision, "\" (expected \"f32\" or \"bf16\")"));
  }
  bf16_ = precision == "bf16";
  if (h_ <= 0 || layers_ < 1) {
    return Error(
        absl::StrCat("needs hidden > 0 and layers >= 1; got hidden=", h_, " layers=", layers_));
  }

  const int64_t num_params = layers_ * d_ * 3;
  if (static_cast<int64_t>(init.input_shapes.size()) != num_declared_ + num_params ||
      init.input_present.size() != init.input_shapes.size()) {
    return Error(absl::StrCat("expected ", num_declared_ + num_params,
                              " inputs (declared inputs and parameters); got ",
                              init.input_shapes.size()));
  }
  const Shape& xs = init.input_shapes[0];
  if (xs.size() != 3 || !init.input_present[0]) {
    return Error(absl::StrCat("input 'x' must have rank 3 [T,N,C]; got ", ShapeToString(xs)));
  }
  t_ = xs[0];
  n_ = xs[1];
  c_ = xs[2];
  const Shape state = {layers_ * d_, n_, h_};
  for (int i = 1; i < lengths_index_; ++i) {
    if (init.input_present[i] && init.input_shapes[i] != state) {
      return Error(absl::StrCat("input '", i == 1 ? "h0" : "c0", "' must have shape ",
                                ShapeToString(state), "; got ",
                                ShapeToString(init.input_shapes[i])));
    }
  }
  const int li = lengths_index_, ri = lengths_index_ + 1;
  if (init.input_present[li] && (init.input_shapes[li] != Shape{n_} ||
                                 (!init.input_dtypes.empty() && init.input_dtypes[li] != INT32))) {
    return Error(absl::StrCat("input 'lengths' must be INT32 of shape [", n_, "]; got ",
                              ShapeToString(init.input_shapes[li])));
  }
  if (init.input_present[ri] && init.input_shapes[ri] != (Shape{t_, n_})) {
    return Error(absl::StrCat("input 'resets' must have shape [", t_, ",", n_, "]; got ",
                              ShapeToString(init.input_shapes[ri])));
  }
  varlen_ = init.input_present[li] || init.input_present[ri];
  const int64_t g = RnnGateCount(cell_), gb = RnnBiasRows(cell_);
  for (int64_t k = 0; k < layers_; ++k) {
    const int64_t in = k == 0 ? c_ : d_ * h_;
    for (int dir = 0; dir < d_; ++dir) {
      const Shape expected[3] = {{in, g * h_}, {h_, g * h_}, {gb, h_}};
      for (int w = 0; w < 3; ++w) {
        const int i = param_index(k, dir, w);
        if (!init.input_present[i] || init.input_shapes[i] != expected[w]) {
          static const char* const kSlots[3] = {"w_x", "w_h", "b"};
          return Error(absl::StrCat("parameter l", k, dir ? "_reverse" : "", "/", kSlots[w],
                                    " must have shape ", ShapeToString(expected[w]), "; got ",
                                    ShapeToString(init.input_shapes[i])));
        }
      }
    }
  }

  const dnnl::engine& engine = init.engine != nullptr ? *init.engine : CpuEngine();
  const dnnl::stream& stream = init.stream != nullptr ? *init.stream : CpuStream();
  for (int64_t k = 0; k < layers_; ++k) {
    RnnLayerConfig config;
    config.cell = cell_;
    config.T = t_;
    config.N = n_;
    config.I = k == 0 ? c_ : d_ * h_;
    config.H = h_;
    config.bidirectional = d_ == 2;
    config.bf16 = bf16_;
    if (varlen_) {
      auto layer = CreateLayer<RnnVarlenLayer>(config, engine, stream, prefix_);
      if (!layer.ok()) return Wrap(layer.status());
      varlen_stack_.push_back(std::move(layer).value());
    } else {
      auto layer = CreateLayer<RnnLayer>(config, engine, stream, prefix_);
      if (!layer.ok()) return Wrap(layer.status());
      stack_.push_back(std::move(layer).value());
    }
    bf16_ = config.bf16;  // cleared by a fallback: later layers compute in f32 too
  }
  try {
    const size_t seq = static_cast<size_t>(t_ * n_ * d_ * h_);
    hidden_.assign(layers_ - 1, std::vector<float>(seq, 0.f));
    hidden_grad_.assign(layers_ - 1, std::vector<float>(seq, 0.f));
    dx_.assign(static_cast<size_t>(t_ * n_ * c_), 0.f);
    const size_t states = static_cast<size_t>(layers_ * d_ * n_ * h_);
    dh0_.assign(states, 0.f);
    if (lstm_) dc0_.assign(states, 0.f);
  } catch (const std::bad_alloc&) {
    return Wrap(absl::ResourceExhaustedError("out of memory for layer buffers"));
  }
  weights_.resize(d_);
  grads_.resize(d_);
  return absl::OkStatus();
}

absl::Status RecurrentKernel::Forward(KernelContext& ctx) {
  if (static_cast<int>(ctx.inputs.size()) != param_index(layers_, 0, 0) ||
      static_cast<int>(ctx.outputs.size()) != (lstm_ ? 3 : 2)) {
    return Error("wrong number of inputs or outputs in the call");
  }
  const size_t state_stride = static_cast<size_t>(d_ * n_ * h_);
  auto slice = [state_stride](const Tensor& t, int64_t k) -> float* {
    return t.valid() ? t.f32() + k * state_stride : nullptr;
  };
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.outputs[0];
  if (!x.valid() || !y.valid()) return Error("input 'x' and output 'y' are required");
  if (varlen_) RF_RETURN_IF_ERROR(CheckMasks(ctx));
  for (int64_t k = 0; k < layers_; ++k) {
    for (int dir = 0; dir < d_; ++dir) {
      weights_[dir].w_x = ctx.inputs[param_index(k, dir, 0)].f32();
      weights_[dir].w_h = ctx.inputs[param_index(k, dir, 1)].f32();
      weights_[dir].b = ctx.inputs[param_index(k, dir, 2)].f32();
    }
    const float* in = k == 0 ? x.f32() : hidden_[k - 1].data();
    float* out = k == layers_ - 1 ? y.f32() : hidden_[k].data();
    const float* h0 = slice(ctx.inputs[1], k);
    const float* c0 = lstm_ ? slice(ctx.inputs[2], k) : nullptr;
    float* h_n = slice(ctx.outputs[1], k);
    float* c_n = lstm_ ? slice(ctx.outputs[2], k) : nullptr;
    if (varlen_) {
      const Tensor& lengths = ctx.inputs[lengths_index_];
      const Tensor& resets = ctx.inputs[lengths_index_ + 1];
      RF_RETURN_IF_ERROR(Wrap(varlen_stack_[k]->Forward(
          in, lengths.valid() ? lengths.i32() : nullptr, resets.valid() ? resets.f32() : nullptr,
          h0, c0, weights_.data(), out, h_n, c_n)));
    } else {
      RF_RETURN_IF_ERROR(Wrap(stack_[k]->Forward(in, h0, c0, weights_.data(), out, h_n, c_n)));
    }
  }
  return absl::OkStatus();
}

absl::Status RecurrentKernel::CheckMasks(const KernelContext& ctx) const {
  const Tensor& lengths = ctx.inputs[lengths_index_];
  if (lengths.valid()) {
    for (int64_t n = 0; n < n_; ++n) {
      const int32_t len = lengths.i32()[n];
      if (len < 1 || len > t_) {
        return Error(absl::StrCat("input 'lengths' column ", n, " is ", len,
                                  "; every length must be in [1, T=", t_, "]"));
      }
    }
  }
  const Tensor& resets = ctx.inputs[lengths_index_ + 1];
  if (resets.valid()) {
    for (int64_t i = 0; i < t_ * n_; ++i) {
      const float v = resets.f32()[i];
      if (v != 0.f && v != 1.f) {
        return Error(absl::StrCat("input 'resets' at step ", i / n_, " column ", i % n_, " is ", v,
                                  "; expected 0 or 1"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RecurrentKernel::Backward(KernelContext& ctx) {
  const int num_inputs = param_index(layers_, 0, 0);
  const int num_outputs = lstm_ ? 3 : 2;
  if (static_cast<int>(ctx.input_grads.size()) != num_inputs ||
      static_cast<int>(ctx.output_grads.size()) != num_outputs) {
    return Error("wrong number of gradients in the call");
  }
  const size_t state_stride = static_cast<size_t>(d_ * n_ * h_);
  auto slice = [state_stride](const Tensor& t, int64_t k) -> const float* {
    return t.valid() ? t.f32() + k * state_stride : nullptr;
  };
  const bool want_dx = ctx.input_grads[0].valid();
  const bool want_dh0 = ctx.input_grads[1].valid();
  const bool want_dc0 = lstm_ && ctx.input_grads[2].valid();
  for (int64_t k = layers_ - 1; k >= 0; --k) {
    for (int dir = 0; dir < d_; ++dir) {
      grads_[dir].w_x = ctx.input_grads[param_index(k, dir, 0)].f32();
      grads_[dir].w_h = ctx.input_grads[param_index(k, dir, 1)].f32();
      grads_[dir].b = ctx.input_grads[param_index(k, dir, 2)].f32();
    }
    const float* dy = k == layers_ - 1
                          ? (ctx.output_grads[0].valid() ? ctx.output_grads[0].f32() : nullptr)
                          : hidden_grad_[k].data();
    float* dx = k > 0 ? hidden_grad_[k - 1].data() : (want_dx ? dx_.data() : nullptr);
    float* dh0 = want_dh0 ? dh0_.data() + k * state_stride : nullptr;
    float* dc0 = want_dc0 ? dc0_.data() + k * state_stride : nullptr;
    const float* dh_n = slice(ctx.output_grads[1], k);
    const float* dc_n = lstm_ ? slice(ctx.output_grads[2], k) : nullptr;
    if (varlen_) {
      RF_RETURN_IF_ERROR(
          Wrap(varlen_stack_[k]->Backward(dy, dh_n, dc_n, dx, dh0, dc0, grads_.data())));
    } else {
      RF_RETURN_IF_ERROR(Wrap(stack_[k]->Backward(dy, dh_n, dc_n, dx, dh0, dc0, grads_.data())));
    }
  }
  auto add = [](const Tensor& dst, const std::vector<float>& src) {
    float* p = dst.f32();
    for (size_t i = 0; i < src.size(); ++i) p[i] += src[i];
  };
  if (want_dx) add(ctx.input_grads[0], dx_);
  if (want_dh0) add(ctx.input_grads[1], dh0_);
  if (want_dc0) add(ctx.input_grads[2], dc0_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateRecurrentKernel(const KernelInit& init) {
  return RecurrentKernel::Create(init);
}

RF_REGISTER_KERNEL("RNN", CreateRecurrentKernel);
RF_REGISTER_KERNEL("LSTM", CreateRecurrentKernel);
RF_REGISTER_KERNEL("GRU", CreateRecurrentKernel);

}  // namespace
}  // namespace rnnflow
