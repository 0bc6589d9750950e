#include "rnnflow/ops/internal/rnn_layer.h"

#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

using dnnl::memory;
using Dt = dnnl::memory::data_type;
using Tag = dnnl::memory::format_tag;

// The forward-training and backward primitives of one oneDNN RNN kind, the
// backward created with the forward as its hint.
template <typename Fwd, typename Bwd>
RnnPrimitives MakeRnnPair(const typename Fwd::desc& fwd, const typename Bwd::desc& bwd,
                          const dnnl::primitive_attr& attr, const dnnl::engine& engine) {
  const typename Fwd::primitive_desc fwd_pd(fwd, attr, engine);
  const typename Bwd::primitive_desc bwd_pd(bwd, attr, engine, fwd_pd);
  return RnnPrimitives{fwd_pd, bwd_pd, Fwd(fwd_pd), Bwd(bwd_pd)};
}

}  // namespace

int RnnGateCount(RnnCell cell) {
  switch (cell) {
    case RnnCell::kRnnTanh:
    case RnnCell::kRnnRelu:
      return 1;
    case RnnCell::kLstm:
      return 4;
    case RnnCell::kGru:
    case RnnCell::kLbrGru:
      return 3;
  }
  return 1;
}

int RnnBiasRows(RnnCell cell) { return cell == RnnCell::kLbrGru ? 4 : RnnGateCount(cell); }

const char* RnnCellName(RnnCell cell) {
  switch (cell) {
    case RnnCell::kRnnTanh:
      return "vanilla_rnn(tanh)";
    case RnnCell::kRnnRelu:
      return "vanilla_rnn(relu)";
    case RnnCell::kLstm:
      return "lstm";
    case RnnCell::kGru:
      return "gru";
    case RnnCell::kLbrGru:
      return "lbr_gru";
  }
  return "?";
}

absl::Status CheckRnnLayerSizes(const RnnLayerConfig& config) {
  if (config.T <= 0 || config.N <= 0 || config.I <= 0 || config.H <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("recurrent layer sizes must be positive; got T=", config.T, " N=", config.N,
                     " I=", config.I, " H=", config.H));
  }
  return absl::OkStatus();
}

RnnPrimitives CreateRnnPrimitives(RnnCell cell, dnnl::rnn_direction dir, int64_t T, int64_t N,
                                  int64_t I, int64_t H, int64_t D, bool bf16,
                                  const dnnl::primitive_attr& attr, const dnnl::engine& engine) {
  const bool lstm = cell == RnnCell::kLstm;
  const memory::dim G = RnnGateCount(cell);
  const memory::dim Gb = RnnBiasRows(cell);
  // What the primitives compute in (act) and what gradients, biases, the
  // cell state and every caller buffer use (float32).
  const Dt act = bf16 ? Dt::bf16 : Dt::f32;
  const memory::desc layer_in({T, N, I}, Dt::f32, Tag::tnc);
  const memory::desc layer_out({T, N, D * H}, Dt::f32, Tag::tnc);
  const memory::desc state({1, D, N, H}, Dt::f32, Tag::ldnc);
  const memory::desc act_in({T, N, I}, act, Tag::tnc);
  const memory::desc act_out({T, N, D * H}, act, Tag::tnc);
  const memory::desc act_state({1, D, N, H}, act, Tag::ldnc);
  const memory::desc none;
  const memory::desc& state_c = lstm ? state : none;
  const memory::desc wl_any({1, D, I, G, H}, act, Tag::any);
  const memory::desc wi_any({1, D, H, G, H}, act, Tag::any);
  const memory::desc dwl_any({1, D, I, G, H}, Dt::f32, Tag::any);
  const memory::desc dwi_any({1, D, H, G, H}, Dt::f32, Tag::any);
  const memory::desc bias_any({1, D, Gb, H}, Dt::f32, Tag::any);

  const auto fwd_kind = dnnl::prop_kind::forward_training;
  const auto bwd_kind = dnnl::prop_kind::backward;

  switch (cell) {
    case RnnCell::kRnnTanh:
    case RnnCell::kRnnRelu: {
      const auto activation =
          cell == RnnCell::kRnnTanh ? dnnl::algorithm::eltwise_tanh : dnnl::algorithm::eltwise_relu;
      return MakeRnnPair<dnnl::vanilla_rnn_forward, dnnl::vanilla_rnn_backward>(
          {fwd_kind, activation, dir, act_in, act_state, wl_any, wi_any, bias_any, act_out,
           act_state},
          {bwd_kind, activation, dir, act_in, act_state, wl_any, wi_any, bias_any, act_out,
           act_state, layer_in, state, dwl_any, dwi_any, bias_any, layer_out, state},
          attr, engine);
    }
    case RnnCell::kLstm:
      return MakeRnnPair<dnnl::lstm_forward, dnnl::lstm_backward>(
          {fwd_kind, dir, act_in, act_state, state_c, wl_any, wi_any, bias_any, act_out, act_state,
           state_c},
          {bwd_kind, dir,     act_in,    act_state, state_c,  wl_any, wi_any,
           bias_any, act_out, act_state, state_c,   layer_in, state,  state_c,
           dwl_any,  dwi_any, bias_any,  layer_out, state,    state_c},
          attr, engine);
    case RnnCell::kGru:
    case RnnCell::kLbrGru: {
      // Both GRU forms take the same descriptor arguments.
      auto gru = [&](auto forward, auto backward) {
        using Fwd = decltype(forward);
        using Bwd = decltype(backward);
        return MakeRnnPair<Fwd, Bwd>(
            {fwd_kind, dir, act_in, act_state, wl_any, wi_any, bias_any, act_out, act_state},
            {bwd_kind, dir, act_in, act_state, wl_any, wi_any, bias_any, act_out, act_state,
             layer_in, state, dwl_any, dwi_any, bias_any, layer_out, state},
            attr, engine);
      };
      return cell == RnnCell::kGru ? gru(dnnl::gru_forward(), dnnl::gru_backward())
                                   : gru(dnnl::lbr_gru_forward(), dnnl::lbr_gru_backward());
    }
  }
  return RnnPrimitives{};
}

std::string RnnLayerDescription(const RnnLayerConfig& config, absl::string_view kind) {
  return absl::StrCat(RnnCellName(config.cell), " layer", kind, " (T=", config.T, " N=", config.N,
                      " I=", config.I, " H=", config.H,
                      config.bidirectional ? " bidirectional" : "", config.bf16 ? " bf16)" : ")");
}

absl::Status SetUpRnnLayer(const std::string& what, const std::function<absl::Status()>& init) {
  try {
    return init();
  } catch (const dnnl::error& e) {
    return DnnlError(absl::StrCat("setup of ", what), e);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory setting up a ", what));
  }
}

RnnLayer::RnnLayer(const RnnLayerConfig& config, const dnnl::engine& engine,
                   const dnnl::stream& stream)
    : config_(config), engine_(engine), stream_(stream) {}

RnnLayer::~RnnLayer() = default;

absl::StatusOr<std::unique_ptr<RnnLayer>> RnnLayer::Create(const RnnLayerConfig& config,
                                                           const dnnl::engine& engine,
                                                           const dnnl::stream& stream) {
  RF_RETURN_IF_ERROR(CheckRnnLayerSizes(config));
  std::unique_ptr<RnnLayer> layer(new RnnLayer(config, engine, stream));
  RF_RETURN_IF_ERROR(SetUpRnnLayer(RnnLayerDescription(config, ""), [&] { return layer->Init(); }));
  return layer;
}

absl::Status RnnLayer::Init() {
  const RnnCell cell = config_.cell;
  const bool lstm = cell == RnnCell::kLstm;
  const memory::dim T = config_.T, N = config_.N, I = config_.I, H = config_.H;
  const memory::dim D = directions();
  const memory::dim G = RnnGateCount(cell);
  const memory::dim Gb = RnnBiasRows(cell);
  const auto dir = config_.bidirectional ? dnnl::rnn_direction::bidirectional_concat
                                         : dnnl::rnn_direction::unidirectional_left2right;

  // What the primitives compute in (act) and what gradients, biases, the
  // cell state and every caller buffer use (float32).
  const Dt act = config_.bf16 ? Dt::bf16 : Dt::f32;
  const memory::desc layer_in({T, N, I}, Dt::f32, Tag::tnc);
  const memory::desc layer_out({T, N, D * H}, Dt::f32, Tag::tnc);
  const memory::desc state({1, D, N, H}, Dt::f32, Tag::ldnc);
  const memory::desc act_in({T, N, I}, act, Tag::tnc);
  const memory::desc act_out({T, N, D * H}, act, Tag::tnc);
  const memory::desc act_state({1, D, N, H}, act, Tag::ldnc);

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const RnnPrimitives prims =
      CreateRnnPrimitives(cell, dir, T, N, I, H, D, config_.bf16, attr, engine_);
  fwd_.primitive = prims.fwd;
  bwd_.primitive = prims.bwd;
  const dnnl::primitive_desc& fwd_pd = prims.fwd_pd;
  const dnnl::primitive_desc& bwd_pd = prims.bwd_pd;

  auto md = [](const dnnl::primitive_desc& pd, int arg) {
    return pd.query_md(dnnl::query::exec_arg_md, arg);
  };
  auto unbound = [this](const memory::desc& d) { return memory(d, engine_, DNNL_MEMORY_NONE); };
  auto owned = [this](const memory::desc& d) {
    memory m(d, engine_);
    std::memset(m.get_data_handle(), 0, d.get_size());
    return m;
  };

  // Caller buffers: plain layouts fixed above, so in float32 they are used
  // in place; in bf16 the layer owns bf16 copies and converts on the way.
  if (config_.bf16) {
    src_layer_ = owned(act_in);
    src_iter_ = owned(act_state);
    dst_layer_ = owned(act_out);
    dst_iter_ = owned(act_state);
    x_f32_ = unbound(layer_in);
    h0_f32_ = unbound(state);
    y_f32_ = unbound(layer_out);
    h_n_f32_ = unbound(state);
    x_to_bf16_ = MakeReorder(x_f32_, src_layer_, false);
    h0_to_bf16_ = MakeReorder(h0_f32_, src_iter_, false);
    y_to_f32_ = MakeReorder(dst_layer_, y_f32_, false);
    h_n_to_f32_ = MakeReorder(dst_iter_, h_n_f32_, false);
  } else {
    src_layer_ = unbound(layer_in);
    src_iter_ = unbound(state);
    dst_layer_ = unbound(layer_out);
    dst_iter_ = unbound(state);
  }
  diff_src_layer_ = unbound(layer_in);
  diff_src_iter_ = unbound(state);
  diff_dst_layer_ = unbound(layer_out);
  diff_dst_iter_ = unbound(state);
  if (lstm) {
    src_iter_c_ = unbound(state);
    dst_iter_c_ = unbound(state);
    diff_src_iter_c_ = unbound(state);
    diff_dst_iter_c_ = unbound(state);
  }

  // Owned buffers in whatever layout the primitives chose.
  fwd_wl_ = owned(md(fwd_pd, DNNL_ARG_WEIGHTS_LAYER));
  fwd_wi_ = owned(md(fwd_pd, DNNL_ARG_WEIGHTS_ITER));
  bias_ = owned(md(fwd_pd, DNNL_ARG_BIAS));
  bwd_wl_ = owned(md(bwd_pd, DNNL_ARG_WEIGHTS_LAYER));
  bwd_wi_ = owned(md(bwd_pd, DNNL_ARG_WEIGHTS_ITER));
  const memory::desc bwd_bias_md = md(bwd_pd, DNNL_ARG_BIAS);
  bwd_bias_ = bwd_bias_md == bias_.get_desc() ? bias_ : owned(bwd_bias_md);
  diff_wl_ = owned(md(bwd_pd, DNNL_ARG_DIFF_WEIGHTS_LAYER));
  diff_wi_ = owned(md(bwd_pd, DNNL_ARG_DIFF_WEIGHTS_ITER));
  diff_bias_ = owned(md(bwd_pd, DNNL_ARG_DIFF_BIAS));
  workspace_ = owned(md(fwd_pd, DNNL_ARG_WORKSPACE));
  const memory::desc bwd_ws_md = md(bwd_pd, DNNL_ARG_WORKSPACE);
  if (bwd_ws_md != workspace_.get_desc()) {
    return absl::InternalError(
        "oneDNN backward RNN primitive wants a different workspace than the forward");
  }
  fwd_scratch_ = memory(fwd_pd.scratchpad_desc(), engine_);
  bwd_scratch_ = memory(bwd_pd.scratchpad_desc(), engine_);

  const size_t state_elems = static_cast<size_t>(D * N * H);
  zeros_state_.assign(state_elems, 0.f);
  zeros_dy_.assign(static_cast<size_t>(T * N * D * H), 0.f);
  own_h_n_.assign(state_elems, 0.f);
  own_dh0_.assign(state_elems, 0.f);
  if (lstm) {
    own_c_n_.assign(state_elems, 0.f);
    own_dc0_.assign(state_elems, 0.f);
  }
  own_dx_.assign(static_cast<size_t>(T * N * I), 0.f);

  fwd_.args = {{DNNL_ARG_SRC_LAYER, src_layer_.get()},
               {DNNL_ARG_SRC_ITER, src_iter_.get()},
               {DNNL_ARG_WEIGHTS_LAYER, fwd_wl_.get()},
               {DNNL_ARG_WEIGHTS_ITER, fwd_wi_.get()},
               {DNNL_ARG_BIAS, bias_.get()},
               {DNNL_ARG_DST_LAYER, dst_layer_.get()},
               {DNNL_ARG_DST_ITER, dst_iter_.get()},
               {DNNL_ARG_WORKSPACE, workspace_.get()},
               {DNNL_ARG_SCRATCHPAD, fwd_scratch_.get()}};
  bwd_.args = {{DNNL_ARG_SRC_LAYER, src_layer_.get()},
               {DNNL_ARG_SRC_ITER, src_iter_.get()},
               {DNNL_ARG_WEIGHTS_LAYER, bwd_wl_.get()},
               {DNNL_ARG_WEIGHTS_ITER, bwd_wi_.get()},
               {DNNL_ARG_BIAS, bwd_bias_.get()},
               {DNNL_ARG_DST_LAYER, dst_layer_.get()},
               {DNNL_ARG_DST_ITER, dst_iter_.get()},
               {DNNL_ARG_WORKSPACE, workspace_.get()},
               {DNNL_ARG_SCRATCHPAD, bwd_scratch_.get()},
               {DNNL_ARG_DIFF_SRC_LAYER, diff_src_layer_.get()},
               {DNNL_ARG_DIFF_SRC_ITER, diff_src_iter_.get()},
               {DNNL_ARG_DIFF_WEIGHTS_LAYER, diff_wl_.get()},
               {DNNL_ARG_DIFF_WEIGHTS_ITER, diff_wi_.get()},
               {DNNL_ARG_DIFF_BIAS, diff_bias_.get()},
               {DNNL_ARG_DIFF_DST_LAYER, diff_dst_layer_.get()},
               {DNNL_ARG_DIFF_DST_ITER, diff_dst_iter_.get()}};
  if (lstm) {
    fwd_.args.push_back({DNNL_ARG_SRC_ITER_C, src_iter_c_.get()});
    fwd_.args.push_back({DNNL_ARG_DST_ITER_C, dst_iter_c_.get()});
    bwd_.args.push_back({DNNL_ARG_SRC_ITER_C, src_iter_c_.get()});
    bwd_.args.push_back({DNNL_ARG_DST_ITER_C, dst_iter_c_.get()});
    bwd_.args.push_back({DNNL_ARG_DIFF_SRC_ITER_C, diff_src_iter_c_.get()});
    bwd_.args.push_back({DNNL_ARG_DIFF_DST_ITER_C, diff_dst_iter_c_.get()});
  }

  // Per direction: dense canonical <-> the d-th slice of the owned buffers.
  const memory::desc dense_wx({1, 1, I, G, H}, Dt::f32, Tag::ldigo);
  const memory::desc dense_wh({1, 1, H, G, H}, Dt::f32, Tag::ldigo);
  const memory::desc dense_b({1, 1, Gb, H}, Dt::f32, Tag::ldgo);
  auto slice = [](const memory& whole, const memory::dims& dims, memory::dim d) {
    memory::dims offsets(dims.size(), 0);
    offsets[1] = d;
    const memory::desc sub = whole.get_desc().submemory_desc(dims, offsets);
    return memory(sub, whole.get_engine(), whole.get_data_handle());
  };
  for (memory::dim d = 0; d < D; ++d) {
    user_wx_.push_back(unbound(dense_wx));
    user_wh_.push_back(unbound(dense_wh));
    user_b_.push_back(unbound(dense_b));
    grad_wx_.push_back(unbound(dense_wx));
    grad_wh_.push_back(unbound(dense_wh));
    grad_b_.push_back(unbound(dense_b));
    to_fwd_wx_.push_back(MakeReorder(user_wx_.back(), slice(fwd_wl_, {1, 1, I, G, H}, d), false));
    to_fwd_wh_.push_back(MakeReorder(user_wh_.back(), slice(fwd_wi_, {1, 1, H, G, H}, d), false));
    to_bias_.push_back(MakeReorder(user_b_.back(), slice(bias_, {1, 1, Gb, H}, d), false));
    add_wx_.push_back(MakeReorder(slice(diff_wl_, {1, 1, I, G, H}, d), grad_wx_.back(), true));
    add_wh_.push_back(MakeReorder(slice(diff_wi_, {1, 1, H, G, H}, d), grad_wh_.back(), true));
    add_b_.push_back(MakeReorder(slice(diff_bias_, {1, 1, Gb, H}, d), grad_b_.back(), true));
  }
  to_bwd_.push_back(MakeReorder(fwd_wl_, bwd_wl_, false));
  to_bwd_.push_back(MakeReorder(fwd_wi_, bwd_wi_, false));
  if (bwd_bias_.get() != bias_.get()) {
    to_bwd_.push_back(MakeReorder(bias_, bwd_bias_, false));
  }
  return absl::OkStatus();
}

absl::Status RnnLayer::Run(const Exec& exec, const char* what) {
  return RunDnnl(exec, stream_, RnnCellName(config_.cell), what);
}

absl::Status RnnLayer::Forward(const float* x, const float* h0, const float* c0,
                               const RnnDirWeights* weights, float* y, float* h_n, float* c_n) {
  const bool lstm = config_.cell == RnnCell::kLstm;
  if (x == nullptr || y == nullptr || weights == nullptr) {
    return absl::InvalidArgumentError("recurrent layer forward: x, y and weights are required");
  }
  try {
    for (int d = 0; d < directions(); ++d) {
      if (weights[d].w_x == nullptr || weights[d].w_h == nullptr || weights[d].b == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("recurrent layer forward: missing weights of direction ", d));
      }
      BindData(user_wx_[d], weights[d].w_x);
      BindData(user_wh_[d], weights[d].w_h);
      BindData(user_b_[d], weights[d].b);
      RF_RETURN_IF_ERROR(Run(to_fwd_wx_[d], "weights reorder"));
      RF_RETURN_IF_ERROR(Run(to_fwd_wh_[d], "weights reorder"));
      RF_RETURN_IF_ERROR(Run(to_bias_[d], "bias reorder"));
    }
    const float* h0_or_zeros = h0 != nullptr ? h0 : zeros_state_.data();
    float* h_n_or_own = h_n != nullptr ? h_n : own_h_n_.data();
    if (config_.bf16) {
      BindData(x_f32_, x);
      BindData(h0_f32_, h0_or_zeros);
      RF_RETURN_IF_ERROR(Run(x_to_bf16_, "input conversion"));
      RF_RETURN_IF_ERROR(Run(h0_to_bf16_, "state conversion"));
    } else {
      BindData(src_layer_, x);
      BindData(src_iter_, h0_or_zeros);
      BindData(dst_layer_, y);
      BindData(dst_iter_, h_n_or_own);
    }
    if (lstm) {
      BindData(src_iter_c_, c0 != nullptr ? c0 : zeros_state_.data());
      BindData(dst_iter_c_, c_n != nullptr ? c_n : own_c_n_.data());
    }
    RF_RETURN_IF_ERROR(Run(fwd_, "forward"));
    if (config_.bf16) {
      BindData(y_f32_, y);
      BindData(h_n_f32_, h_n_or_own);
      RF_RETURN_IF_ERROR(Run(y_to_f32_, "output conversion"));
      RF_RETURN_IF_ERROR(Run(h_n_to_f32_, "state conversion"));
    }
    stream_.wait();
  } catch (const dnnl::error& e) {
    return DnnlError(absl::StrCat(RnnCellName(config_.cell), " forward"), e);
  }
  return absl::OkStatus();
}

absl::Status RnnLayer::Backward(const float* dy, const float* dh_n, const float* dc_n, float* dx,
                                float* dh0, float* dc0, const RnnDirGrads* grads) {
  const bool lstm = config_.cell == RnnCell::kLstm;
  try {
    for (const Exec& e : to_bwd_) RF_RETURN_IF_ERROR(Run(e, "weights reorder"));
    // oneDNN accumulates into diff weights: start from zero every time.
    for (const memory* m : {&diff_wl_, &diff_wi_, &diff_bias_}) {
      std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
    }
    BindData(diff_dst_layer_, dy != nullptr ? dy : zeros_dy_.data());
    BindData(diff_dst_iter_, dh_n != nullptr ? dh_n : zeros_state_.data());
    BindData(diff_src_layer_, dx != nullptr ? dx : own_dx_.data());
    BindData(diff_src_iter_, dh0 != nullptr ? dh0 : own_dh0_.data());
    if (lstm) {
      BindData(diff_dst_iter_c_, dc_n != nullptr ? dc_n : zeros_state_.data());
      BindData(diff_src_iter_c_, dc0 != nullptr ? dc0 : own_dc0_.data());
    }
    RF_RETURN_IF_ERROR(Run(bwd_, "backward"));
    if (grads != nullptr) {
      for (int d = 0; d < directions(); ++d) {
        if (grads[d].w_x != nullptr) {
          BindData(grad_wx_[d], grads[d].w_x);
          RF_RETURN_IF_ERROR(Run(add_wx_[d], "gradient reorder"));
        }
        if (grads[d].w_h != nullptr) {
          BindData(grad_wh_[d], grads[d].w_h);
          RF_RETURN_IF_ERROR(Run(add_wh_[d], "gradient reorder"));
        }
        if (grads[d].b != nullptr) {
          BindData(grad_b_[d], grads[d].b);
          RF_RETURN_IF_ERROR(Run(add_b_[d], "gradient reorder"));
        }
      }
    }
    stream_.wait();
  } catch (const dnnl::error& e) {
    return DnnlError(absl::StrCat(RnnCellName(config_.cell), " backward"), e);
  }
  return absl::OkStatus();
}

int64_t RnnLayer::internal_bytes() const {
  int64_t bytes = 0;
  for (const dnnl::memory* m :
       {&fwd_wl_, &fwd_wi_, &bias_, &bwd_wl_, &bwd_wi_, &bwd_bias_, &diff_wl_, &diff_wi_,
        &diff_bias_, &workspace_, &fwd_scratch_, &bwd_scratch_}) {
    if (*m) bytes += static_cast<int64_t>(m->get_desc().get_size());
  }
  // bf16 mode: the layer's own copies of the sequence and state buffers.
  for (const dnnl::memory* m : {&src_layer_, &src_iter_, &dst_layer_, &dst_iter_}) {
    if (!config_.bf16) break;
    if (*m) bytes += static_cast<int64_t>(m->get_desc().get_size());
  }
  for (const std::vector<float>* v :
       {&zeros_state_, &zeros_dy_, &own_h_n_, &own_c_n_, &own_dh0_, &own_dc0_, &own_dx_}) {
    bytes += static_cast<int64_t>(v->size() * sizeof(float));
  }
  return bytes;
}

}  // namespace rnnflow
