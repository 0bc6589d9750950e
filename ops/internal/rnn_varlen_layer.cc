#include "rnnflow/ops/internal/rnn_varlen_layer.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

using dnnl::memory;
using Dt = dnnl::memory::data_type;
using Tag = dnnl::memory::format_tag;

constexpr size_t kAlign = 64;  // workspace slices start on cache lines

size_t AlignUp(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

}  // namespace

RnnVarlenLayer::RnnVarlenLayer(const RnnLayerConfig& config, const dnnl::engine& engine,
                               const dnnl::stream& stream)
    : config_(config), engine_(engine), stream_(stream) {}

RnnVarlenLayer::~RnnVarlenLayer() = default;

absl::StatusOr<std::unique_ptr<RnnVarlenLayer>> RnnVarlenLayer::Create(const RnnLayerConfig& config,
                                                                       const dnnl::engine& engine,
                                                                       const dnnl::stream& stream) {
  RF_RETURN_IF_ERROR(CheckRnnLayerSizes(config));
  std::unique_ptr<RnnVarlenLayer> layer(new RnnVarlenLayer(config, engine, stream));
  RF_RETURN_IF_ERROR(SetUpRnnLayer(RnnLayerDescription(config, " with lengths/resets"),
                                   [&] { return layer->Init(); }));
  return layer;
}

int RnnVarlenLayer::PrimFor(int64_t s) const {
  if (s == config_.T) return static_cast<int>(prims_.size()) - 1;
  int k = 0;
  while ((int64_t{2} << k) <= s) ++k;  // 2^k <= s < 2^(k+1), and 2^k < T
  return k;
}

void* RnnVarlenLayer::ActX(Direction& r, int64_t a) {
  const size_t at = static_cast<size_t>(a * config_.N * config_.I);
  return config_.bf16 ? static_cast<void*>(r.x_act.data() + at) : r.x.data() + at;
}

void* RnnVarlenLayer::ActY(Direction& r, int64_t a) {
  const size_t at = static_cast<size_t>(a * config_.N * config_.H);
  return config_.bf16 ? static_cast<void*>(r.y_act.data() + at) : r.y.data() + at;
}

void* RnnVarlenLayer::ActHIn(Direction& r, size_t i) {
  const size_t at = i * static_cast<size_t>(config_.N * config_.H);
  return config_.bf16 ? static_cast<void*>(r.h_in_act.data() + at) : r.h_in.data() + at;
}

void* RnnVarlenLayer::ActHOut(Direction& r, size_t i) {
  const size_t at = i * static_cast<size_t>(config_.N * config_.H);
  return config_.bf16 ? static_cast<void*>(r.h_out_act.data() + at) : r.h_out.data() + at;
}

absl::Status RnnVarlenLayer::Init() {
  const RnnCell cell = config_.cell;
  const bool lstm = cell == RnnCell::kLstm;
  const memory::dim T = config_.T, N = config_.N, I = config_.I, H = config_.H;
  const memory::dim G = RnnGateCount(cell), Gb = RnnBiasRows(cell);
  const int D = directions();

  std::vector<int64_t> steps;
  for (int64_t p = 1; p < T; p *= 2) steps.push_back(p);
  steps.push_back(T);

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // What the primitives read and write as sequences and hidden states.
  const Dt act = config_.bf16 ? Dt::bf16 : Dt::f32;
  const memory::desc state({1, 1, N, H}, Dt::f32, Tag::ldnc);
  const memory::desc act_state({1, 1, N, H}, act, Tag::ldnc);
  auto md = [](const dnnl::primitive_desc& pd, int arg) {
    return pd.query_md(dnnl::query::exec_arg_md, arg);
  };
  auto unbound = [this](const memory::desc& d) { return memory(d, engine_, DNNL_MEMORY_NONE); };
  auto owned = [this](const memory::desc& d) {
    memory m(d, engine_);
    std::memset(m.get_data_handle(), 0, d.get_size());
    return m;
  };

  std::vector<RnnPrimitives> pds;
  for (int64_t s : steps) {
    pds.push_back(CreateRnnPrimitives(cell, dnnl::rnn_direction::unidirectional_left2right, s, N, I,
                                      H, 1, config_.bf16, attr, engine_));
  }
  // Weights are shared by all piece lengths: their layouts must agree.
  const RnnPrimitives& ref = pds.back();
  const int kWeightArgs[] = {DNNL_ARG_WEIGHTS_LAYER, DNNL_ARG_WEIGHTS_ITER, DNNL_ARG_BIAS};
  const int kDiffArgs[] = {DNNL_ARG_DIFF_WEIGHTS_LAYER, DNNL_ARG_DIFF_WEIGHTS_ITER,
                           DNNL_ARG_DIFF_BIAS};
  size_t scratch_bytes = 1;
  for (size_t p = 0; p < pds.size(); ++p) {
    for (int arg : kWeightArgs) {
      if (md(pds[p].fwd_pd, arg) != md(ref.fwd_pd, arg) ||
          md(pds[p].bwd_pd, arg) != md(ref.bwd_pd, arg)) {
        return absl::UnimplementedError(absl::StrCat("oneDNN chose different weight layouts for ",
                                                     steps[p], " and ", T, " steps"));
      }
    }
    for (int arg : kDiffArgs) {
      if (md(pds[p].bwd_pd, arg) != md(ref.bwd_pd, arg)) {
        return absl::UnimplementedError(absl::StrCat("oneDNN chose different gradient layouts for ",
                                                     steps[p], " and ", T, " steps"));
      }
    }
    if (md(pds[p].bwd_pd, DNNL_ARG_WORKSPACE) != md(pds[p].fwd_pd, DNNL_ARG_WORKSPACE)) {
      return absl::InternalError(
          "oneDNN backward RNN primitive wants a different workspace than the forward");
    }
    scratch_bytes = std::max({scratch_bytes, pds[p].fwd_pd.scratchpad_desc().get_size(),
                              pds[p].bwd_pd.scratchpad_desc().get_size()});
  }
  scratch_ =
      memory(memory::desc({static_cast<memory::dim>(scratch_bytes)}, Dt::u8, Tag::a), engine_);

  // The worst total of piece workspaces over every cutting of T steps into
  // segments: cost(s) of one segment is the sum over its pieces.
  std::vector<size_t> piece_bytes(steps.size());
  for (size_t p = 0; p < steps.size(); ++p) {
    piece_bytes[p] = AlignUp(md(pds[p].fwd_pd, DNNL_ARG_WORKSPACE).get_size());
  }
  prims_.resize(steps.size());
  for (size_t p = 0; p < steps.size(); ++p) prims_[p].steps = steps[p];
  std::vector<size_t> cost(T + 1, 0), worst(T + 1, 0);
  for (int64_t s = 1; s <= T; ++s) {
    int64_t rest = s;
    while (rest > 0) {
      const int p = PrimFor(rest);
      cost[s] += piece_bytes[p];
      rest -= steps[p];
    }
  }
  for (int64_t t = 1; t <= T; ++t) {
    for (int64_t s = 1; s <= t; ++s) worst[t] = std::max(worst[t], worst[t - s] + cost[s]);
  }
  arena_bytes_ = worst[T];

  const memory::desc dense_wx({1, 1, I, G, H}, Dt::f32, Tag::ldigo);
  const memory::desc dense_wh({1, 1, H, G, H}, Dt::f32, Tag::ldigo);
  const memory::desc dense_b({1, 1, Gb, H}, Dt::f32, Tag::ldgo);
  const size_t nh = static_cast<size_t>(N * H);
  dirs_.resize(D);
  for (Direction& r : dirs_) {
    r.fwd_wl = owned(md(ref.fwd_pd, DNNL_ARG_WEIGHTS_LAYER));
    r.fwd_wi = owned(md(ref.fwd_pd, DNNL_ARG_WEIGHTS_ITER));
    r.bias = owned(md(ref.fwd_pd, DNNL_ARG_BIAS));
    r.bwd_wl = owned(md(ref.bwd_pd, DNNL_ARG_WEIGHTS_LAYER));
    r.bwd_wi = owned(md(ref.bwd_pd, DNNL_ARG_WEIGHTS_ITER));
    const memory::desc bwd_bias_md = md(ref.bwd_pd, DNNL_ARG_BIAS);
    r.bwd_bias = bwd_bias_md == r.bias.get_desc() ? r.bias : owned(bwd_bias_md);
    r.diff_wl = owned(md(ref.bwd_pd, DNNL_ARG_DIFF_WEIGHTS_LAYER));
    r.diff_wi = owned(md(ref.bwd_pd, DNNL_ARG_DIFF_WEIGHTS_ITER));
    r.diff_bias = owned(md(ref.bwd_pd, DNNL_ARG_DIFF_BIAS));
    r.user_wx = unbound(dense_wx);
    r.user_wh = unbound(dense_wh);
    r.user_b = unbound(dense_b);
    r.grad_wx = unbound(dense_wx);
    r.grad_wh = unbound(dense_wh);
    r.grad_b = unbound(dense_b);
    r.to_fwd_wx = MakeReorder(r.user_wx, r.fwd_wl, false);
    r.to_fwd_wh = MakeReorder(r.user_wh, r.fwd_wi, false);
    r.to_bias = MakeReorder(r.user_b, r.bias, false);
    r.add_wx = MakeReorder(r.diff_wl, r.grad_wx, true);
    r.add_wh = MakeReorder(r.diff_wi, r.grad_wh, true);
    r.add_b = MakeReorder(r.diff_bias, r.grad_b, true);
    r.to_bwd.push_back(MakeReorder(r.fwd_wl, r.bwd_wl, false));
    r.to_bwd.push_back(MakeReorder(r.fwd_wi, r.bwd_wi, false));
    if (r.bwd_bias.get() != r.bias.get())
      r.to_bwd.push_back(MakeReorder(r.bias, r.bwd_bias, false));

    r.x.assign(static_cast<size_t>(T * N * I), 0.f);
    r.dx.assign(r.x.size(), 0.f);
    r.y.assign(static_cast<size_t>(T) * nh, 0.f);
    r.dy.assign(r.y.size(), 0.f);
    r.h_in.assign(static_cast<size_t>(T) * nh, 0.f);
    r.h_out.assign(r.h_in.size(), 0.f);
    r.d_a.assign(nh, 0.f);
    r.d_b.assign(nh, 0.f);
    if (lstm) {
      r.c_in.assign(r.h_in.size(), 0.f);
      r.c_out.assign(r.h_in.size(), 0.f);
      r.dc_a.assign(nh, 0.f);
      r.dc_b.assign(nh, 0.f);
    }
    r.pieces.reserve(static_cast<size_t>(T));
    r.boundary.assign(static_cast<size_t>(T + 1), 0);
    // Not touched here: only the slices a step's pieces use are ever written.
    r.arena = memory(
        memory::desc({static_cast<memory::dim>(std::max<size_t>(arena_bytes_, 1))}, Dt::u8, Tag::a),
        engine_);
    if (config_.bf16) {
      r.x_act.assign(r.x.size(), 0);
      r.y_act.assign(r.y.size(), 0);
      r.h_in_act.assign(r.h_in.size(), 0);
      r.h_out_act.assign(r.h_out.size(), 0);
      r.x_to_act = MakeReorder(memory({{T, N, I}, Dt::f32, Tag::tnc}, engine_, r.x.data()),
                               memory({{T, N, I}, act, Tag::tnc}, engine_, r.x_act.data()), false);
      r.y_to_f32 = MakeReorder(memory({{T, N, H}, act, Tag::tnc}, engine_, r.y_act.data()),
                               memory({{T, N, H}, Dt::f32, Tag::tnc}, engine_, r.y.data()), false);
    }
  }
  if (config_.bf16) {
    state_in_f32_ = unbound(state);
    state_in_act_ = unbound(act_state);
    state_out_act_ = unbound(act_state);
    state_out_f32_ = unbound(state);
    state_to_act_ = MakeReorder(state_in_f32_, state_in_act_, false);
    state_to_f32_ = MakeReorder(state_out_act_, state_out_f32_, false);
  }

  for (size_t p = 0; p < prims_.size(); ++p) {
    Prim& P = prims_[p];
    const dnnl::primitive_desc& fpd = pds[p].fwd_pd;
    const dnnl::primitive_desc& bpd = pds[p].bwd_pd;
    const memory::desc layer_in({P.steps, N, I}, Dt::f32, Tag::tnc);
    const memory::desc layer_out({P.steps, N, H}, Dt::f32, Tag::tnc);
    P.workspace_bytes = piece_bytes[p];
    P.src_layer = unbound({{P.steps, N, I}, act, Tag::tnc});
    P.dst_layer = unbound({{P.steps, N, H}, act, Tag::tnc});
    P.diff_src_layer = unbound(layer_in);
    P.diff_dst_layer = unbound(layer_out);
    P.src_iter = unbound(act_state);
    P.dst_iter = unbound(act_state);
    P.diff_src_iter = unbound(state);
    P.diff_dst_iter = unbound(state);
    if (lstm) {
      P.src_iter_c = unbound(state);
      P.dst_iter_c = unbound(state);
      P.diff_src_iter_c = unbound(state);
      P.diff_dst_iter_c = unbound(state);
    }
    P.workspace = unbound(md(fpd, DNNL_ARG_WORKSPACE));
    P.fwd_scratch = memory(fpd.scratchpad_desc(), engine_, scratch_.get_data_handle());
    P.bwd_scratch = memory(bpd.scratchpad_desc(), engine_, scratch_.get_data_handle());
    for (Direction& r : dirs_) {
      Exec f, b;
      f.primitive = pds[p].fwd;
      b.primitive = pds[p].bwd;
      f.args = {{DNNL_ARG_SRC_LAYER, P.src_layer.get()},
                {DNNL_ARG_SRC_ITER, P.src_iter.get()},
                {DNNL_ARG_WEIGHTS_LAYER, r.fwd_wl.get()},
                {DNNL_ARG_WEIGHTS_ITER, r.fwd_wi.get()},
                {DNNL_ARG_BIAS, r.bias.get()},
                {DNNL_ARG_DST_LAYER, P.dst_layer.get()},
                {DNNL_ARG_DST_ITER, P.dst_iter.get()},
                {DNNL_ARG_WORKSPACE, P.workspace.get()},
                {DNNL_ARG_SCRATCHPAD, P.fwd_scratch.get()}};
      b.args = {{DNNL_ARG_SRC_LAYER, P.src_layer.get()},
                {DNNL_ARG_SRC_ITER, P.src_iter.get()},
                {DNNL_ARG_WEIGHTS_LAYER, r.bwd_wl.get()},
                {DNNL_ARG_WEIGHTS_ITER, r.bwd_wi.get()},
                {DNNL_ARG_BIAS, r.bwd_bias.get()},
                {DNNL_ARG_DST_LAYER, P.dst_layer.get()},
                {DNNL_ARG_DST_ITER, P.dst_iter.get()},
                {DNNL_ARG_WORKSPACE, P.workspace.get()},
                {DNNL_ARG_SCRATCHPAD, P.bwd_scratch.get()},
                {DNNL_ARG_DIFF_SRC_LAYER, P.diff_src_layer.get()},
                {DNNL_ARG_DIFF_SRC_ITER, P.diff_src_iter.get()},
                {DNNL_ARG_DIFF_WEIGHTS_LAYER, r.diff_wl.get()},
                {DNNL_ARG_DIFF_WEIGHTS_ITER, r.diff_wi.get()},
                {DNNL_ARG_DIFF_BIAS, r.diff_bias.get()},
                {DNNL_ARG_DIFF_DST_LAYER, P.diff_dst_layer.get()},
                {DNNL_ARG_DIFF_DST_ITER, P.diff_dst_iter.get()}};
      if (lstm) {
        f.args.push_back({DNNL_ARG_SRC_ITER_C, P.src_iter_c.get()});
        f.args.push_back({DNNL_ARG_DST_ITER_C, P.dst_iter_c.get()});
        b.args.push_back({DNNL_ARG_SRC_ITER_C, P.src_iter_c.get()});
        b.args.push_back({DNNL_ARG_DST_ITER_C, P.dst_iter_c.get()});
        b.args.push_back({DNNL_ARG_DIFF_SRC_ITER_C, P.diff_src_iter_c.get()});
        b.args.push_back({DNNL_ARG_DIFF_DST_ITER_C, P.diff_dst_iter_c.get()});
      }
      P.fwd.push_back(std::move(f));
      P.bwd.push_back(std::move(b));
    }
  }
  own_h_n_.assign(static_cast<size_t>(D) * nh, 0.f);
  if (lstm) own_c_n_.assign(own_h_n_.size(), 0.f);
  len_.assign(static_cast<size_t>(N), static_cast<int32_t>(T));
  resets_.assign(static_cast<size_t>(T * N), 0.f);
  return absl::OkStatus();
}

absl::Status RnnVarlenLayer::Run(const Exec& exec, const char* what) {
  return RunDnnl(exec, stream_, RnnCellName(config_.cell), what);
}

bool RnnVarlenLayer::ZeroAt(int d, int64_t s, int64_t n) const {
  const int64_t len = len_[n];
  if (len <= s) return true;
  if (!has_resets_ || s <= 0) return false;
  // Forward: the boundary before step s; reverse: before original step
  // len-s-1, i.e. the boundary before original step len-s.
  const int64_t t = d == 0 ? s : len - s;
  return resets_[t * config_.N + n] != 0.f;
}

void RnnVarlenLayer::Plan(int d) {
  Direction& r = dirs_[d];
  const int64_t N = config_.N;
  std::fill(r.boundary.begin(), r.boundary.end(), 0);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t len = len_[n];
    r.boundary[len] = 1;
    if (!has_resets_) continue;
    for (int64_t t = 1; t < len; ++t) {
      if (resets_[t * N + n] != 0.f) r.boundary[d == 0 ? t : len - t] = 1;
    }
  }
  r.pieces.clear();
  size_t offset = 0;
  int64_t begin = 0;
  for (int64_t s = 1; s <= max_len_; ++s) {
    if (!r.boundary[s]) continue;
    int64_t pos = begin;
    while (pos < s) {
      const int p = PrimFor(s - pos);
      r.pieces.push_back(Piece{p, pos, offset});
      offset += prims_[p].workspace_bytes;
      pos += prims_[p].steps;
    }
    begin = s;
  }
}

absl::Status RnnVarlenLayer::Forward(const float* x, const int32_t* lengths, const float* resets,
                                     const float* h0, const float* c0, const RnnDirWeights* weights,
                                     float* y, float* h_n, float* c_n) {
  if (x == nullptr || y == nullptr || weights == nullptr) {
    return absl::InvalidArgumentError("recurrent layer forward: x, y and weights are required");
  }
  if (h_n == nullptr) h_n = own_h_n_.data();
  if (c_n == nullptr && config_.cell == RnnCell::kLstm) c_n = own_c_n_.data();
  const int64_t T = config_.T, N = config_.N;
  max_len_ = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t len = lengths != nullptr ? lengths[n] : T;
    if (len < 1 || len > T) {
      return absl::InvalidArgumentError(
          absl::StrCat("length ", len, " of column ", n, " is outside [1, ", T, "]"));
    }
    len_[n] = static_cast<int32_t>(len);
    max_len_ = std::max(max_len_, len);
  }
  has_resets_ = resets != nullptr;
  if (has_resets_) std::memcpy(resets_.data(), resets, resets_.size() * sizeof(float));
  const size_t nh = static_cast<size_t>(N * config_.H);
  try {
    for (int d = 0; d < directions(); ++d) {
      Plan(d);
      RF_RETURN_IF_ERROR(ForwardDirection(d, x, h0 != nullptr ? h0 + d * nh : nullptr,
                                          c0 != nullptr ? c0 + d * nh : nullptr, weights[d], y,
                                          h_n + d * nh, c_n != nullptr ? c_n + d * nh : nullptr));
    }
  } catch (const dnnl::error& e) {
    return DnnlError(absl::StrCat(RnnCellName(config_.cell), " forward"), e);
  }
  return absl::OkStatus();
}

absl::Status RnnVarlenLayer::ForwardDirection(int d, const float* x, const float* h0,
                                              const float* c0, const RnnDirWeights& w, float* y,
                                              float* h_n, float* c_n) {
  Direction& r = dirs_[d];
  const bool lstm = config_.cell == RnnCell::kLstm;
  const int64_t T = config_.T, N = config_.N, I = config_.I, H = config_.H;
  const int64_t D = directions();
  const size_t nh = static_cast<size_t>(N * H);
  if (w.w_x == nullptr || w.w_h == nullptr || w.b == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("recurrent layer forward: missing weights of direction ", d));
  }
  BindData(r.user_wx, w.w_x);
  BindData(r.user_wh, w.w_h);
  BindData(r.user_b, w.b);
  RF_RETURN_IF_ERROR(Run(r.to_fwd_wx, "weights reorder"));
  RF_RETURN_IF_ERROR(Run(r.to_fwd_wh, "weights reorder"));
  RF_RETURN_IF_ERROR(Run(r.to_bias, "bias reorder"));

  // Input in this direction's time, zero past each sequence's end.
  for (int64_t s = 0; s < max_len_; ++s) {
    for (int64_t n = 0; n < N; ++n) {
      float* dst = r.x.data() + (s * N + n) * I;
      const int64_t len = len_[n];
      if (s < len) {
        const int64_t t = d == 0 ? s : len - 1 - s;
        std::memcpy(dst, x + (t * N + n) * I, I * sizeof(float));
      } else {
        std::memset(dst, 0, I * sizeof(float));
      }
    }
  }
  // Initial state; a reset at t = 0 zeroes the forward one.
  auto init_state = [&](float* dst, const float* src) {
    if (src != nullptr) {
      std::memcpy(dst, src, nh * sizeof(float));
    } else {
      std::memset(dst, 0, nh * sizeof(float));
    }
    if (d == 0 && has_resets_) {
      for (int64_t n = 0; n < N; ++n) {
        if (resets_[n] != 0.f) std::memset(dst + n * H, 0, H * sizeof(float));
      }
    }
  };
  init_state(r.h_in.data(), h0);
  if (lstm) init_state(r.c_in.data(), c0);
  if (config_.bf16) RF_RETURN_IF_ERROR(Run(r.x_to_act, "input conversion"));

  char* ws = static_cast<char*>(r.arena.get_data_handle());
  const size_t np = r.pieces.size();
  for (size_t i = 0; i < np; ++i) {
    const Piece& piece = r.pieces[i];
    Prim& P = prims_[piece.prim];
    const int64_t a = piece.begin, e = a + P.steps;
    float* h_out = r.h_out.data() + i * nh;
    float* c_out = lstm ? r.c_out.data() + i * nh : nullptr;
    if (config_.bf16) {
      BindData(state_in_f32_, r.h_in.data() + i * nh);
      BindData(state_in_act_, ActHIn(r, i));
      RF_RETURN_IF_ERROR(Run(state_to_act_, "state conversion"));
    }
    BindData(P.src_layer, ActX(r, a));
    BindData(P.src_iter, ActHIn(r, i));
    BindData(P.dst_layer, ActY(r, a));
    BindData(P.dst_iter, ActHOut(r, i));
    if (lstm) {
      BindData(P.src_iter_c, r.c_in.data() + i * nh);
      BindData(P.dst_iter_c, c_out);
    }
    BindData(P.workspace, ws + piece.workspace_offset);
    RF_RETURN_IF_ERROR(Run(P.fwd[d], "forward"));
    if (config_.bf16) {
      BindData(state_out_act_, ActHOut(r, i));
      BindData(state_out_f32_, h_out);
      RF_RETURN_IF_ERROR(Run(state_to_f32_, "state conversion"));
    }
    stream_.wait();
    if (!r.boundary[e]) {  // inside a segment: the state passes unchanged
      std::memcpy(r.h_in.data() + (i + 1) * nh, h_out, nh * sizeof(float));
      if (lstm) std::memcpy(r.c_in.data() + (i + 1) * nh, c_out, nh * sizeof(float));
      continue;
    }
    for (int64_t n = 0; n < N; ++n) {
      if (len_[n] != e) continue;
      std::memcpy(h_n + n * H, h_out + n * H, H * sizeof(float));
      if (lstm) std::memcpy(c_n + n * H, c_out + n * H, H * sizeof(float));
    }
    if (i + 1 == np) break;
    float* h_next = r.h_in.data() + (i + 1) * nh;
    float* c_next = lstm ? r.c_in.data() + (i + 1) * nh : nullptr;
    for (int64_t n = 0; n < N; ++n) {
      const bool zero = ZeroAt(d, e, n);
      for (float* next : {h_next, c_next}) {
        if (next == nullptr) continue;
        const float* src = (next == h_next ? h_out : c_out) + n * H;
        if (zero) {
          std::memset(next + n * H, 0, H * sizeof(float));
        } else {
          std::memcpy(next + n * H, src, H * sizeof(float));
        }
      }
    }
  }

  if (config_.bf16) {
    RF_RETURN_IF_ERROR(Run(r.y_to_f32, "output conversion"));
    stream_.wait();
  }
  // Output in natural time, zero past each sequence's end.
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t n = 0; n < N; ++n) {
      float* dst = y + (t * N + n) * D * H + d * H;
      const int64_t len = len_[n];
      if (t < len) {
        const int64_t s = d == 0 ? t : len - 1 - t;
        std::memcpy(dst, r.y.data() + (s * N + n) * H, H * sizeof(float));
      } else {
        std::memset(dst, 0, H * sizeof(float));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RnnVarlenLayer::Backward(const float* dy, const float* dh_n, const float* dc_n,
                                      float* dx, float* dh0, float* dc0, const RnnDirGrads* grads) {
  const size_t nh = static_cast<size_t>(config_.N * config_.H);
  try {
    for (int d = 0; d < directions(); ++d) {
      RF_RETURN_IF_ERROR(BackwardDirection(
          d, dy, dh_n != nullptr ? dh_n + d * nh : nullptr,
          dc_n != nullptr ? dc_n + d * nh : nullptr, dx, dh0 != nullptr ? dh0 + d * nh : nullptr,
          dc0 != nullptr ? dc0 + d * nh : nullptr, grads != nullptr ? &grads[d] : nullptr));
    }
  } catch (const dnnl::error& e) {
    return DnnlError(absl::StrCat(RnnCellName(config_.cell), " backward"), e);
  }
  return absl::OkStatus();
}

absl::Status RnnVarlenLayer::BackwardDirection(int d, const float* dy, const float* dh_n,
                                               const float* dc_n, float* dx, float* dh0, float* dc0,
                                               const RnnDirGrads* grads) {
  Direction& r = dirs_[d];
  const bool lstm = config_.cell == RnnCell::kLstm;
  const int64_t T = config_.T, N = config_.N, I = config_.I, H = config_.H;
  const int64_t D = directions();
  const size_t nh = static_cast<size_t>(N * H);
  for (const Exec& e : r.to_bwd) RF_RETURN_IF_ERROR(Run(e, "weights reorder"));
  // oneDNN accumulates into diff weights: over all pieces, from zero.
  for (const memory* m : {&r.diff_wl, &r.diff_wi, &r.diff_bias}) {
    std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
  }
  for (int64_t s = 0; s < max_len_; ++s) {
    for (int64_t n = 0; n < N; ++n) {
      float* dst = r.dy.data() + (s * N + n) * H;
      const int64_t len = len_[n];
      if (s < len && dy != nullptr) {
        const int64_t t = d == 0 ? s : len - 1 - s;
        std::memcpy(dst, dy + (t * N + n) * D * H + d * H, H * sizeof(float));
      } else {
        std::memset(dst, 0, H * sizeof(float));
      }
    }
  }

  // d_out: gradient w.r.t. the state entering the next piece, then (after
  // masking and adding dh_n) w.r.t. this piece's final state.
  float* d_out = r.d_a.data();
  float* d_in = r.d_b.data();
  float* dc_out = lstm ? r.dc_a.data() : nullptr;
  float* dc_in = lstm ? r.dc_b.data() : nullptr;
  std::memset(d_out, 0, nh * sizeof(float));
  if (lstm) std::memset(dc_out, 0, nh * sizeof(float));
  char* ws = static_cast<char*>(r.arena.get_data_handle());
  for (size_t i = r.pieces.size(); i-- > 0;) {
    const Piece& piece = r.pieces[i];
    Prim& P = prims_[piece.prim];
    const int64_t a = piece.begin, e = a + P.steps;
    if (r.boundary[e]) {
      for (int64_t n = 0; n < N; ++n) {
        if (ZeroAt(d, e, n)) {
          std::memset(d_out + n * H, 0, H * sizeof(float));
          if (lstm) std::memset(dc_out + n * H, 0, H * sizeof(float));
        }
        if (len_[n] != e) continue;
        for (int64_t j = 0; j < H; ++j) {
          if (dh_n != nullptr) d_out[n * H + j] += dh_n[n * H + j];
          if (lstm && dc_n != nullptr) dc_out[n * H + j] += dc_n[n * H + j];
        }
      }
    }
    BindData(P.src_layer, ActX(r, a));
    BindData(P.src_iter, ActHIn(r, i));
    BindData(P.dst_layer, ActY(r, a));
    BindData(P.dst_iter, ActHOut(r, i));
    BindData(P.diff_dst_layer, r.dy.data() + a * N * H);
    BindData(P.diff_dst_iter, d_out);
    BindData(P.diff_src_layer, r.dx.data() + a * N * I);
    BindData(P.diff_src_iter, d_in);
    if (lstm) {
      BindData(P.src_iter_c, r.c_in.data() + i * nh);
      BindData(P.dst_iter_c, r.c_out.data() + i * nh);
      BindData(P.diff_dst_iter_c, dc_out);
      BindData(P.diff_src_iter_c, dc_in);
    }
    BindData(P.workspace, ws + piece.workspace_offset);
    RF_RETURN_IF_ERROR(Run(P.bwd[d], "backward"));
    stream_.wait();
    std::swap(d_out, d_in);
    std::swap(dc_out, dc_in);
  }
  // d_out now holds the gradient w.r.t. the initial state.
  auto write_initial = [&](float* dst, const float* src) {
    if (dst == nullptr) return;
    std::memcpy(dst, src, nh * sizeof(float));
    if (d == 0 && has_resets_) {
      for (int64_t n = 0; n < N; ++n) {
        if (resets_[n] != 0.f) std::memset(dst + n * H, 0, H * sizeof(float));
      }
    }
  };
  write_initial(dh0, d_out);
  if (lstm) write_initial(dc0, dc_out);

  if (dx != nullptr) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t n = 0; n < N; ++n) {
        float* dst = dx + (t * N + n) * I;
        const int64_t len = len_[n];
        if (t >= len) {
          if (d == 0) std::memset(dst, 0, I * sizeof(float));
          continue;
        }
        const float* src = r.dx.data() + ((d == 0 ? t : len - 1 - t) * N + n) * I;
        if (d == 0) {
          std::memcpy(dst, src, I * sizeof(float));
        } else {
          for (int64_t k = 0; k < I; ++k) dst[k] += src[k];
        }
      }
    }
  }
  if (grads != nullptr) {
    if (grads->w_x != nullptr) {
      BindData(r.grad_wx, grads->w_x);
      RF_RETURN_IF_ERROR(Run(r.add_wx, "gradient reorder"));
    }
    if (grads->w_h != nullptr) {
      BindData(r.grad_wh, grads->w_h);
      RF_RETURN_IF_ERROR(Run(r.add_wh, "gradient reorder"));
    }
    if (grads->b != nullptr) {
      BindData(r.grad_b, grads->b);
      RF_RETURN_IF_ERROR(Run(r.add_b, "gradient reorder"));
    }
  }
  stream_.wait();
  return absl::OkStatus();
}

int64_t RnnVarlenLayer::internal_bytes() const {
  int64_t bytes = static_cast<int64_t>(scratch_.get_desc().get_size());
  for (const Direction& r : dirs_) {
    for (const memory* m : {&r.fwd_wl, &r.fwd_wi, &r.bias, &r.bwd_wl, &r.bwd_wi, &r.diff_wl,
                            &r.diff_wi, &r.diff_bias, &r.arena}) {
      bytes += static_cast<int64_t>(m->get_desc().get_size());
    }
    if (r.bwd_bias.get() != r.bias.get()) {
      bytes += static_cast<int64_t>(r.bwd_bias.get_desc().get_size());
    }
    for (const std::vector<float>* v : {&r.x, &r.y, &r.dy, &r.dx, &r.h_in, &r.h_out, &r.c_in,
                                        &r.c_out, &r.d_a, &r.d_b, &r.dc_a, &r.dc_b}) {
      bytes += static_cast<int64_t>(v->size() * sizeof(float));
    }
    for (const std::vector<uint16_t>* v : {&r.x_act, &r.y_act, &r.h_in_act, &r.h_out_act}) {
      bytes += static_cast<int64_t>(v->size() * sizeof(uint16_t));
    }
    bytes += static_cast<int64_t>(r.boundary.size() + r.pieces.capacity() * sizeof(Piece));
  }
  bytes +=
      static_cast<int64_t>((resets_.size() + own_h_n_.size() + own_c_n_.size()) * sizeof(float) +
                           len_.size() * sizeof(int32_t));
  return bytes;
}

}  // namespace rnnflow
