// Kernel of Dropout (graph/op_defs_dropout.cc). It stores no mask: Forward
// and Backward both recompute it from the pass's RunInfo with the
// counter-based hash of runtime/counter_rng.h, which also makes the result
// independent of the OpenMP thread count.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/counter_rng.h"
#include "runtime/kernel.h"

namespace rnnflow {
namespace {

constexpr int64_t kParallelMin = 1 << 14;

class DropoutKernel : public OpKernel {
 public:
  DropoutKernel(const KernelInit& init, float rate, std::vector<int64_t> mask_strides,
                int64_t mask_elements, bool shares)
      : rate_(rate),
        scale_(1.f / (1.f - rate)),
        // P(drop) = threshold / 2^32, within 2^-32 of rate.
        threshold_(static_cast<uint64_t>(std::ldexp(static_cast<double>(rate), 32))),
        node_key_(NodeRandomKey(init.node_name)),
        shape_(init.input_shapes[0]),
        mask_strides_(std::move(mask_strides)),
        mask_elements_(mask_elements),
        shares_(shares) {}

  absl::Status Forward(KernelContext& ctx) override {
    const float* x = ctx.inputs[0].f32();
    float* y = ctx.outputs[0].f32();
    const int64_t n = ctx.inputs[0].num_elements();
    if (!Active(ctx)) {
      if (y != x) std::memcpy(y, x, n * sizeof(float));
      return absl::OkStatus();
    }
    const uint64_t key = PassRandomKey(*ctx.run, node_key_);
    const int64_t offset = StepOffset(ctx);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = Keep(key, offset + MaskIndex(i)) ? x[i] * scale_ : 0.f;
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    const Tensor& dx_t = ctx.input_grads[0];
    if (!dy_t.valid() || !dx_t.valid()) return absl::OkStatus();
    const float* dy = dy_t.f32();
    float* dx = dx_t.f32();
    const int64_t n = dx_t.num_elements();
    if (!Active(ctx)) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i];
      return absl::OkStatus();
    }
    const uint64_t key = PassRandomKey(*ctx.run, node_key_);
    const int64_t offset = StepOffset(ctx);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      if (Keep(key, offset + MaskIndex(i))) dx[i] += dy[i] * scale_;
    }
    return absl::OkStatus();
  }

 private:
  bool Active(const KernelContext& ctx) const {
    return ctx.run != nullptr && ctx.run->training && rate_ > 0.f;
  }
  // In step mode, step t's elements are numbered after those of steps < t,
  // as in the [T, ...] tensor the node would see outside the recurrence.
  int64_t StepOffset(const KernelContext& ctx) const {
    return ctx.time_step > 0 ? ctx.time_step * mask_elements_ : 0;
  }
  // The element of the mask that element i of x reads: i itself unless
  // some axes share their mask values.
  int64_t MaskIndex(int64_t i) const {
    if (!shares_) return i;
    int64_t m = 0;
    for (size_t d = shape_.size(); d-- > 0;) {
      const int64_t c = i % shape_[d];
      i /= shape_[d];
      m += c * mask_strides_[d];
    }
    return m;
  }
  bool Keep(uint64_t key, int64_t index) const {
    return RandomBits(key, static_cast<uint64_t>(index)) >= threshold_;
  }

  float rate_;
  float scale_;
  uint64_t threshold_;
  uint64_t node_key_;
  Shape shape_;
  std::vector<int64_t> mask_strides_;  // 0 along shared axes
  int64_t mask_elements_;              // elements of one mask (one step's)
  bool shares_;                        // some axis shares mask values
};

RF_REGISTER_KERNEL("Dropout",
                   [](const KernelInit& init) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                     const float rate = init.GetFloat("rate");
                     if (!(rate >= 0.f && rate < 1.f)) {
                       return init.Error(
                           absl::StrCat("attribute 'rate' must be in [0, 1); got ", rate));
                     }
                     const Shape& x = init.input_shapes[0];
                     const int rank = static_cast<int>(x.size());
                     std::vector<bool> shared(rank, false);
                     bool shares = false;
                     for (int64_t axis : init.GetInts("shared_axes")) {
                       if (axis < -rank || axis >= rank) {
                         return init.Error(absl::StrCat("attribute 'shared_axes' entry ", axis,
                                                        " is outside the input's rank ", rank));
                       }
                       shared[axis < 0 ? axis + rank : axis] = true;
                       shares = true;
                     }
                     // Row-major strides of the mask, whose shape is x's with 1 on shared axes.
                     std::vector<int64_t> strides(rank, 0);
                     int64_t stride = 1;
                     for (int d = rank; d-- > 0;) {
                       if (shared[d]) continue;
                       strides[d] = stride;
                       stride *= x[d];
                     }
                     return std::unique_ptr<OpKernel>(
                         new DropoutKernel(init, rate, std::move(strides), stride, shares));
                   });

}  // namespace
}  // namespace rnnflow
