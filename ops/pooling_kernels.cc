// Kernels of graph/op_defs_pooling.cc: x [T, N, ...] -> y [1, N, ...],
// column n pooled over its steps t < len_n.
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

class PoolOverTimeKernel : public OpKernel {
 public:
  PoolOverTimeKernel(const KernelInit& init, bool max)
      : max_(max), prefix_(absl::StrCat("node '", init.node_name, "' (", init.op, "): ")) {
    const Shape& x = init.input_shapes[0];
    T_ = x[0];
    N_ = x[1];
    row_ = 1;
    for (size_t d = 2; d < x.size(); ++d) row_ *= x[d];
  }

  absl::Status Forward(KernelContext& ctx) override {
    const bool has_len = ctx.inputs.size() > 1 && ctx.inputs[1].valid();
    if (has_len) RF_RETURN_IF_ERROR(CheckLengths(ctx.inputs[1]));
    const float* x = ctx.inputs[0].f32();
    float* y = ctx.outputs[0].f32();
    for (int64_t n = 0; n < N_; ++n) {
      const int64_t len = has_len ? ctx.inputs[1].i32()[n] : T_;
      float* yn = y + n * row_;
      std::memcpy(yn, Row(x, 0, n), row_ * sizeof(float));
      for (int64_t t = 1; t < len; ++t) {
        const float* xt = Row(x, t, n);
        if (max_) {
          for (int64_t i = 0; i < row_; ++i) yn[i] = xt[i] > yn[i] ? xt[i] : yn[i];
        } else {
          for (int64_t i = 0; i < row_; ++i) yn[i] += xt[i];
        }
      }
      if (!max_) {
        const float inv = 1.f / static_cast<float>(len);
        for (int64_t i = 0; i < row_; ++i) yn[i] *= inv;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    const Tensor& dx_t = ctx.input_grads[0];
    if (!dy_t.valid() || !dx_t.valid()) return absl::OkStatus();
    const bool has_len = ctx.inputs.size() > 1 && ctx.inputs[1].valid();
    const float* x = ctx.inputs[0].f32();
    const float* y = ctx.outputs[0].f32();
    const float* dy = dy_t.f32();
    float* dx = dx_t.f32();
    for (int64_t n = 0; n < N_; ++n) {
      const int64_t len = has_len ? ctx.inputs[1].i32()[n] : T_;
      const float* g = dy + n * row_;
      if (max_) {
        // The first step that holds the maximum takes the gradient.
        const float* yn = y + n * row_;
        for (int64_t i = 0; i < row_; ++i) {
          for (int64_t t = 0; t < len; ++t) {
            if (Row(x, t, n)[i] == yn[i]) {
              Row(dx, t, n)[i] += g[i];
              break;
            }
          }
        }
      } else {
        const float inv = 1.f / static_cast<float>(len);
        for (int64_t t = 0; t < len; ++t) {
          float* d = Row(dx, t, n);
          for (int64_t i = 0; i < row_; ++i) d[i] += g[i] * inv;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename F>
  F* Row(F* base, int64_t t, int64_t n) const {
    return base + (t * N_ + n) * row_;
  }

  absl::Status CheckLengths(const Tensor& lengths) const {
    for (int64_t n = 0; n < N_; ++n) {
      const int32_t len = lengths.i32()[n];
      if (len < 1 || len > T_) {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix_, "input 'lengths' column ", n, " is ", len,
                         "; every length must be in [1, T=", T_, "]"));
      }
    }
    return absl::OkStatus();
  }

  bool max_;
  std::string prefix_;
  int64_t T_ = 0, N_ = 0, row_ = 1;
};

absl::StatusOr<std::unique_ptr<OpKernel>> CreatePool(const KernelInit& init, bool max) {
  if (init.step_mode) {
    return init.Error("cannot run inside a recurrence (it needs the whole sequence)");
  }
  return std::unique_ptr<OpKernel>(new PoolOverTimeKernel(init, max));
}

RF_REGISTER_KERNEL("MeanOverTime", [](const KernelInit& init) { return CreatePool(init, false); });
RF_REGISTER_KERNEL("MaxOverTime", [](const KernelInit& init) { return CreatePool(init, true); });

}  // namespace
}  // namespace rnnflow
