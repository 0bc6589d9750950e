// One recurrent layer (L = 1) over a batch of sequences of different lengths
// and/or with state resets at document boundaries. oneDNN 2.6 has neither, so
// this runs the cell as left-to-right primitives over pieces of time:
//
// - Each direction runs separately. The reverse direction runs left to right
//   over the per-sequence-reversed input x'[s, n] = x[len_n-1-s, n], so it too
//   starts at step 0 of every sequence, and its output is reversed back.
// - A segment ends wherever some sequence ends (its final state is captured
//   there) or some column resets (its state is zeroed there). Columns that
//   have ended keep running on zero input and zero state until the batch's
//   longest sequence ends; their outputs are dropped and their gradients are
//   zero, so padding neither gets nor gives anything.
// - Segments are cut into pieces run by primitives of the fixed lengths
//   {T} and {2^k < T}, created once; a segment of s steps is s itself when
//   s = T, otherwise its binary decomposition (at most log2(T) + 1 pieces).
// - The backward needs each piece's forward workspace, so every piece gets
//   its own slice of one arena sized, when the layer is created, for the worst
//   cutting of T steps. States entering and leaving each piece are kept
//   (the backward re-reads them) in [T, N, H] buffers.
//
// - Mixed precision (config.bf16) as in RnnLayer: the primitives read and
//   write bf16 sequences and hidden states, kept in bf16 mirrors of the
//   float32 staging buffers (x and y converted once per direction, states
//   once per piece) so that the backward re-reads exactly what the forward
//   used; weights are bf16, biases, the cell state and all gradients f32.
//
// Everything is allocated in Create(); Forward() and Backward() allocate
// nothing. Without lengths and resets use RnnLayer: one primitive per layer.
#ifndef RNNFLOW_OPS_INTERNAL_RNN_VARLEN_LAYER_H_
#define RNNFLOW_OPS_INTERNAL_RNN_VARLEN_LAYER_H_

#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rnnflow/ops/internal/dnnl_exec.h"
#include "rnnflow/ops/internal/rnn_layer.h"

namespace rnnflow {

class RnnVarlenLayer {
 public:
  static absl::StatusOr<std::unique_ptr<RnnVarlenLayer>> Create(const RnnLayerConfig& config,
                                                                const dnnl::engine& engine,
                                                                const dnnl::stream& stream);

  ~RnnVarlenLayer();
  RnnVarlenLayer(const RnnVarlenLayer&) = delete;
  RnnVarlenLayer& operator=(const RnnVarlenLayer&) = delete;

  int directions() const { return config_.bidirectional ? 2 : 1; }

  // As RnnLayer::Forward, plus: lengths [N], each in [1, T] (checked by the
  // caller; null: all T) and resets [T, N] of 0/1 (null: none). y is zero at
  // t >= len_n. lengths and resets are read only here; Backward reuses the
  // plan made from them.
  absl::Status Forward(const float* x, const int32_t* lengths, const float* resets, const float* h0,
                       const float* c0, const RnnDirWeights* weights, float* y, float* h_n,
                       float* c_n);

  // As RnnLayer::Backward (dx, dh0, dc0 overwritten; parameter gradients
  // added), for the plan of the last Forward().
  absl::Status Backward(const float* dy, const float* dh_n, const float* dc_n, float* dx,
                        float* dh0, float* dc0, const RnnDirGrads* grads);

  int64_t internal_bytes() const;

 private:
  using Exec = DnnlExec;
  // One primitive pair for pieces of `steps` steps; its activation memories
  // are bound to the piece's slices on every run.
  struct Prim {
    int64_t steps = 0;
    size_t workspace_bytes = 0;
    dnnl::memory src_layer, src_iter, src_iter_c, dst_layer, dst_iter, dst_iter_c;
    dnnl::memory diff_src_layer, diff_src_iter, diff_src_iter_c;
    dnnl::memory diff_dst_layer, diff_dst_iter, diff_dst_iter_c, workspace;
    dnnl::memory fwd_scratch, bwd_scratch;  // views of the shared scratchpad
    std::vector<Exec> fwd, bwd;             // per direction (weights differ)
  };
  struct Piece {
    int prim = 0;
    int64_t begin = 0;
    size_t workspace_offset = 0;
  };
  // Weights of one direction in the primitives' layouts (the same for all
  // piece lengths, checked in Init) and the per-direction buffers.
  struct Direction {
    dnnl::memory fwd_wl, fwd_wi, bias, bwd_wl, bwd_wi, bwd_bias, diff_wl, diff_wi, diff_bias;
    dnnl::memory user_wx, user_wh, user_b, grad_wx, grad_wh, grad_b;
    Exec to_fwd_wx, to_fwd_wh, to_bias, add_wx, add_wh, add_b;
    std::vector<Exec> to_bwd;
    std::vector<float> x, y, dy, dx;              // [T,N,I], [T,N,H], [T,N,H], [T,N,I]
    std::vector<float> h_in, h_out, c_in, c_out;  // [T,N,H]: per piece
    std::vector<float> d_a, d_b, dc_a, dc_b;      // [N,H] ping-pong state gradients
    std::vector<Piece> pieces;                    // reserved for T pieces
    std::vector<uint8_t> boundary;                // [T+1]: a segment ends at s
    dnnl::memory arena;                           // workspaces of all pieces
    // bf16 mode: bf16 copies of x, y, h_in and h_out (what the primitives
    // read and write) and the whole-sequence conversions x -> x_act and
    // y_act -> y, bound to these buffers once.
    std::vector<uint16_t> x_act, y_act, h_in_act, h_out_act;
    Exec x_to_act, y_to_f32;
  };

  RnnVarlenLayer(const RnnLayerConfig& config, const dnnl::engine& engine,
                 const dnnl::stream& stream);
  absl::Status Init();
  absl::Status Run(const Exec& exec, const char* what);
  // The buffer piece i (starting at step a) reads or writes as the
  // primitives' src/dst layer and iter: the f32 buffer itself, or its bf16
  // copy in bf16 mode.
  void* ActX(Direction& r, int64_t a);
  void* ActY(Direction& r, int64_t a);
  void* ActHIn(Direction& r, size_t i);
  void* ActHOut(Direction& r, size_t i);
  // Index into prims_ of the largest piece length <= s (s itself if s == T).
  int PrimFor(int64_t s) const;
  // Whether column n's state is zeroed entering direction-time step s
  // (0 < s): it has ended, or a reset boundary lies there.
  bool ZeroAt(int d, int64_t s, int64_t n) const;
  void Plan(int d);
  absl::Status ForwardDirection(int d, const float* x, const float* h0, const float* c0,
                                const RnnDirWeights& w, float* y, float* h_n, float* c_n);
  absl::Status BackwardDirection(int d, const float* dy, const float* dh_n, const float* dc_n,
                                 float* dx, float* dh0, float* dc0, const RnnDirGrads* grads);

  RnnLayerConfig config_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<Prim> prims_;  // steps 1, 2, 4, ... (< T), then T
  std::vector<Direction> dirs_;
  dnnl::memory scratch_;  // shared by every primitive (they run one at a time)
  // bf16 mode: one state [N,H] converted f32 -> bf16 (entering a piece) and
  // bf16 -> f32 (leaving it); bound to the piece's slices on every run.
  dnnl::memory state_in_f32_, state_in_act_, state_out_act_, state_out_f32_;
  Exec state_to_act_, state_to_f32_;
  size_t arena_bytes_ = 0;
  std::vector<int32_t> len_;              // [N] of the last Forward
  std::vector<float> resets_;             // [T,N] of the last Forward (if has_resets_)
  std::vector<float> own_h_n_, own_c_n_;  // final states nobody asked for
  bool has_resets_ = false;
  int64_t max_len_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_OPS_INTERNAL_RNN_VARLEN_LAYER_H_
