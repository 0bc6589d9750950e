// One recurrent layer (L = 1) on oneDNN: the forward-training and backward
// primitives of a vanilla RNN, LSTM, GRU or LBR-GRU cell, unidirectional
// (left to right) or bidirectional_concat, for fixed sizes (T, N, I, H).
//
// Everything is created once in Create(): primitive descriptors (weights with
// format_tag::any), primitives, the workspace, user-mode scratchpads, the
// weight buffers in the forward and backward layouts, the diff-weight
// buffers, and every reorder between them and the dense canonical layout.
// Forward() and Backward() then allocate nothing and create no primitives:
// they only rebind data handles and execute.
//
// Canonical (dense, row-major) parameter layout per direction, the oneDNN
// `ldigo` layout with L = D = 1:
//   w_x [I, G*H], w_h [H, G*H], b [Gb, H]
// G = 1 (RNN), 4 (LSTM: i, f, c~, o), 3 (GRU: u, r, o); Gb = G except
// LBR-GRU (Gb = 4: u, r, o, o').
//
// Stacks (ops/rnn_kernels.cc) chain several layers; for PyTorch-style
// bidirectional stacks layer k+1 has I = 2H.
#ifndef RNNFLOW_OPS_INTERNAL_RNN_LAYER_H_
#define RNNFLOW_OPS_INTERNAL_RNN_LAYER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rnnflow/ops/internal/dnnl_exec.h"

namespace rnnflow {

enum class RnnCell { kRnnTanh, kRnnRelu, kLstm, kGru, kLbrGru };

int RnnGateCount(RnnCell cell);  // G
int RnnBiasRows(RnnCell cell);   // Gb
const char* RnnCellName(RnnCell cell);

struct RnnLayerConfig {
  RnnCell cell = RnnCell::kLstm;
  int64_t T = 0;  // time steps
  int64_t N = 0;  // batch
  int64_t I = 0;  // input width
  int64_t H = 0;  // hidden width
  bool bidirectional = false;
  // Mixed precision: the primitives compute in bfloat16 (AMX / AVX512-BF16
  // tiles on CPUs that have them) while every buffer the caller sees, the
  // parameters, their gradients and the LSTM cell state stay float32. The
  // layer keeps bf16 copies of its inputs and outputs for the backward pass.
  bool bf16 = false;
};

// InvalidArgument unless T, N, I and H are positive.
absl::Status CheckRnnLayerSizes(const RnnLayerConfig& config);

// Dense canonical weights of one direction.
struct RnnDirWeights {
  const float* w_x = nullptr;  // [I, G*H]
  const float* w_h = nullptr;  // [H, G*H]
  const float* b = nullptr;    // [Gb, H]
};

// Dense canonical gradient buffers of one direction; Backward ADDS into them.
// A null pointer means "not needed".
struct RnnDirGrads {
  float* w_x = nullptr;
  float* w_h = nullptr;
  float* b = nullptr;
};

// The forward-training and backward primitives of one layer (L = 1, D
// directions) for x [T,N,I], states [1,D,N,H], y [T,N,D*H], computing in
// bf16 or f32 (gradients, biases and the cell state always f32), weights
// format_tag::any. Throws dnnl::error.
struct RnnPrimitives {
  dnnl::primitive_desc fwd_pd, bwd_pd;
  dnnl::primitive fwd, bwd;
};
RnnPrimitives CreateRnnPrimitives(RnnCell cell, dnnl::rnn_direction direction, int64_t T, int64_t N,
                                  int64_t I, int64_t H, int64_t D, bool bf16,
                                  const dnnl::primitive_attr& attr, const dnnl::engine& engine);

// "lstm layer<kind> (T=.. N=.. I=.. H=.. bidirectional bf16)", for errors.
std::string RnnLayerDescription(const RnnLayerConfig& config, absl::string_view kind);
// Runs a layer's primitive set-up `init`, turning oneDNN errors and failed
// allocations into statuses naming `what` (RnnLayerDescription).
absl::Status SetUpRnnLayer(const std::string& what, const std::function<absl::Status()>& init);

class RnnLayer {
 public:
  // Errors (bad sizes, oneDNN refusals) come back as a Status; the caller
  // adds the node name. `engine` and `stream` must outlive the layer.
  static absl::StatusOr<std::unique_ptr<RnnLayer>> Create(const RnnLayerConfig& config,
                                                          const dnnl::engine& engine,
                                                          const dnnl::stream& stream);

  ~RnnLayer();
  RnnLayer(const RnnLayer&) = delete;
  RnnLayer& operator=(const RnnLayer&) = delete;

  const RnnLayerConfig& config() const { return config_; }
  int directions() const { return config_.bidirectional ? 2 : 1; }
  int64_t output_width() const { return directions() * config_.H; }

  // x [T,N,I]; h0, c0 [D,N,H] (null: zeros; c0 only for LSTM);
  // weights[d] for d < directions(). Writes y [T,N,D*H], h_n and c_n
  // [D,N,H] (null: kept internally). Direction 0 is left-to-right, 1 is
  // right-to-left (its final state is the one after x[0]).
  // x, h0, c0, y and c_n must stay unchanged until Backward() has run: the
  // backward primitive re-reads them.
  absl::Status Forward(const float* x, const float* h0, const float* c0,
                       const RnnDirWeights* weights, float* y, float* h_n, float* c_n);

  // After Forward() with the same weights. dy [T,N,D*H], dh_n, dc_n [D,N,H]
  // (null: zeros). OVERWRITES dx [T,N,I], dh0 and dc0 [D,N,H] (null: not
  // needed) and ADDS the parameter gradients into grads[d] (may be null as a
  // whole: no parameter gradients needed).
  absl::Status Backward(const float* dy, const float* dh_n, const float* dc_n, float* dx,
                        float* dh0, float* dc0, const RnnDirGrads* grads);

  // Bytes this layer allocated: workspace, scratchpads, weights in the
  // primitives' layouts, their gradients and internal buffers.
  int64_t internal_bytes() const;

 private:
  using Exec = DnnlExec;

  explicit RnnLayer(const RnnLayerConfig& config, const dnnl::engine& engine,
                    const dnnl::stream& stream);
  absl::Status Init();
  absl::Status Run(const Exec& exec, const char* what);

  RnnLayerConfig config_;
  dnnl::engine engine_;
  dnnl::stream stream_;

  // Memories bound to caller buffers on every call (created without data);
  // in bf16 mode src_layer_, src_iter_, dst_layer_ and dst_iter_ are owned
  // bf16 buffers instead and the caller's float32 buffers bind to the
  // *_f32_ memories, converted by the reorders below.
  dnnl::memory src_layer_, src_iter_, src_iter_c_;
  dnnl::memory dst_layer_, dst_iter_, dst_iter_c_;
  dnnl::memory diff_src_layer_, diff_src_iter_, diff_src_iter_c_;
  dnnl::memory diff_dst_layer_, diff_dst_iter_, diff_dst_iter_c_;
  dnnl::memory x_f32_, h0_f32_, y_f32_, h_n_f32_;
  // Dense canonical weights / gradients of one direction each.
  std::vector<dnnl::memory> user_wx_, user_wh_, user_b_;
  std::vector<dnnl::memory> grad_wx_, grad_wh_, grad_b_;

  // Owned buffers in the primitives' layouts.
  dnnl::memory fwd_wl_, fwd_wi_, bias_, bwd_wl_, bwd_wi_, bwd_bias_;
  dnnl::memory diff_wl_, diff_wi_, diff_bias_;
  dnnl::memory workspace_, fwd_scratch_, bwd_scratch_;

  // Fallbacks for absent caller buffers.
  std::vector<float> zeros_state_;  // [D,N,H], stays zero
  std::vector<float> zeros_dy_;     // [T,N,D*H], stays zero
  std::vector<float> own_h_n_, own_c_n_, own_dh0_, own_dc0_;
  std::vector<float> own_dx_;

  Exec fwd_, bwd_;
  Exec x_to_bf16_, h0_to_bf16_, y_to_f32_, h_n_to_f32_;  // bf16 mode only
  std::vector<Exec> to_fwd_wx_, to_fwd_wh_, to_bias_;    // per direction
  std::vector<Exec> to_bwd_;                             // fwd -> bwd layouts
  std::vector<Exec> add_wx_, add_wh_, add_b_;            // diff -> grads (+=)
};

}  // namespace rnnflow

#endif  // RNNFLOW_OPS_INTERNAL_RNN_LAYER_H_
