// Kernels of graph/op_defs_sequence.cc.
#include <cstring>

#include "runtime/kernel.h"

namespace rnnflow {
namespace {

class ReverseTimeKernel : public OpKernel {
 public:
  absl::Status Forward(KernelContext& ctx) override {
    const Tensor& x = ctx.inputs[0];
    const int64_t T = x.dim(0);
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
    for (int64_t t = 0; t < T; ++t) {
      const float* g = dy.Slice0(t).f32();
      float* d = dx.Slice0(T - 1 - t).f32();
      for (int64_t i = 0; i < n; ++i) d[i] += g[i];
    }
    return absl::OkStatus();
  }
};

RF_REGISTER_KERNEL("ReverseTime",
                   [](const KernelInit& init) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                     if (init.step_mode) {
                       return init.Error("cannot run inside a recurrence (it needs the whole "
                                         "sequence)");
                     }
                     return std::unique_ptr<OpKernel>(new ReverseTimeKernel());
                   });

}  // namespace
}  // namespace rnnflow
