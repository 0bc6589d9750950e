// Kernels of graph/op_defs_sequence.cc.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

class ReverseTimeKernel : public OpKernel {
 public:
  explicit ReverseTimeKernel(std::string prefix) : prefix_(std::move(prefix)) {}

  absl::Status Forward(KernelContext& ctx) override {
    const Tensor& x = ctx.inputs[0];
    const int64_t T = x.dim(0);
    if (ctx.inputs.size() > 1 && ctx.inputs[1].valid()) {
      RF_RETURN_IF_ERROR(CheckLengths(ctx.inputs[1], T));
      const int32_t* len = ctx.inputs[1].i32();
      const int64_t N = x.dim(1);
      const size_t row = x.Slice0(0).num_bytes() / N;
      for (int64_t t = 0; t < T; ++t) {
        char* y = static_cast<char*>(ctx.outputs[0].Slice0(t).data());
        for (int64_t n = 0; n < N; ++n) {
          if (t < len[n]) {
            const char* src = static_cast<const char*>(x.Slice0(len[n] - 1 - t).data());
            std::memcpy(y + n * row, src + n * row, row);
          } else {
            std::memset(y + n * row, 0, row);
          }
        }
      }
      return absl::OkStatus();
    }
    const size_t step = x.Slice0(0).num_bytes();
    for (int64_t t = 0; t < T; ++t) {
      std::memcpy(ctx.outputs[0].Slice0(t).data(), x.Slice0(T - 1 - t).data(), step);
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy = ctx.output_grads[0];
    const Tensor& dx = ctx.input_grads[0];
    if (!dy.valid() || !dx.valid()) return absl::OkStatus();
    const int64_t T = dy.dim(0);
    const int64_t n = dy.Slice0(0).num_elements();
    if (ctx.inputs.size() > 1 && ctx.inputs[1].valid()) {
      const int32_t* len = ctx.inputs[1].i32();
      const int64_t N = dy.dim(1), row = n / N;
      for (int64_t t = 0; t < T; ++t) {
        const float* g = dy.Slice0(t).f32();
        for (int64_t c = 0; c < N; ++c) {
          if (t >= len[c]) continue;  // padding: y was 0, nothing flows back
          float* d = dx.Slice0(len[c] - 1 - t).f32() + c * row;
          for (int64_t i = 0; i < row; ++i) d[i] += g[c * row + i];
        }
      }
      return absl::OkStatus();
    }
    for (int64_t t = 0; t < T; ++t) {
      const float* g = dy.Slice0(t).f32();
      float* d = dx.Slice0(T - 1 - t).f32();
      for (int64_t i = 0; i < n; ++i) d[i] += g[i];
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckLengths(const Tensor& lengths, int64_t T) const {
    for (int64_t n = 0; n < lengths.num_elements(); ++n) {
      const int32_t len = lengths.i32()[n];
      if (len < 1 || len > T) {
        return absl::InvalidArgumentError(absl::StrCat(prefix_, "input 'lengths' column ", n,
                                                       " is ", len,
                                                       "; every length must be in [1, T=", T, "]"));
      }
    }
    return absl::OkStatus();
  }

  std::string prefix_;
};

RF_REGISTER_KERNEL("ReverseTime",
                   [](const KernelInit& init) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                     if (init.step_mode) {
                       return init.Error(
                           "cannot run inside a recurrence (it needs the whole "
                           "sequence)");
                     }
                     return std::unique_ptr<OpKernel>(new ReverseTimeKernel(
                         absl::StrCat("node '", init.node_name, "' (", init.op, "): ")));
                   });

}  // namespace
}  // namespace rnnflow
