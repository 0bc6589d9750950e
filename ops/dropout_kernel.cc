// Kernel of Dropout (graph/op_defs_dropout.cc). It stores no mask: Forward
// and Backward both recompute it from the pass's RunInfo with the
// counter-based hash of runtime/counter_rng.h, which also makes the result
// independent of the OpenMP thread count. Draws are keyed by global batch
// column, so data-parallel workers together draw one process's mask.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/runtime/counter_rng.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

constexpr int64_t kParallelMin = 1 << 14;

class DropoutKernel : public OpKernel {
 public:
  // mask_strides: per axis of x, the stride of its coordinate in the index of
  // a draw within one column (0 along shared axes and the column axis);
  // column_axis: the axis bound to "N" unless it is shared, else -1.
  DropoutKernel(const KernelInit& init, float rate, std::vector<int64_t> mask_strides,
                int64_t mask_elements, int column_axis)
      : rate_(rate),
        scale_(1.f / (1.f - rate)),
        // P(drop) = threshold / 2^32, within 2^-32 of rate.
        threshold_(static_cast<uint64_t>(std::ldexp(static_cast<double>(rate), 32))),
        node_key_(NodeRandomKey(init.node_name)),
        shape_(init.input_shapes[0]),
        mask_strides_(std::move(mask_strides)),
        mask_elements_(mask_elements),
        column_axis_(column_axis) {}

  absl::Status Forward(KernelContext& ctx) override {
    const float* x = ctx.inputs[0].f32();
    float* y = ctx.outputs[0].f32();
    const int64_t n = ctx.inputs[0].num_elements();
    if (!Active(ctx)) {
      if (y != x) std::memcpy(y, x, n * sizeof(float));
      return absl::OkStatus();
    }
    const Draws draws = DrawsOf(ctx);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = Keep(draws, i) ? x[i] * scale_ : 0.f;
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
    const Draws draws = DrawsOf(ctx);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      if (Keep(draws, i)) dx[i] += dy[i] * scale_;
    }
    return absl::OkStatus();
  }

 private:
  // What one pass's draws depend on besides the element.
  struct Draws {
    uint64_t pass_key;
    int64_t first_column;  // global index of local column 0
    int64_t offset;        // index of this call's first draw within a column
  };

  bool Active(const KernelContext& ctx) const {
    return ctx.run != nullptr && ctx.run->training && rate_ > 0.f;
  }
  // In step mode, step t's draws are numbered after those of steps < t, as in
  // the [T, ...] tensor the node would see outside the recurrence.
  Draws DrawsOf(const KernelContext& ctx) const {
    return {PassRandomKey(*ctx.run, node_key_), ctx.run->first_column,
            ctx.time_step > 0 ? ctx.time_step * mask_elements_ : 0};
  }
  // Element i of x keeps its value with probability 1 - rate; the draw is
  // keyed by its global column (0 without a column axis) and by its index in
  // the mask of one column, so shared axes read one draw.
  bool Keep(const Draws& d, int64_t i) const {
    int64_t m = 0, column = 0;
    for (size_t a = shape_.size(); a-- > 0;) {
      const int64_t c = i % shape_[a];
      i /= shape_[a];
      m += c * mask_strides_[a];
      if (static_cast<int>(a) == column_axis_) column = d.first_column + c;
    }
    const uint64_t key = column_axis_ >= 0 ? ColumnRandomKey(d.pass_key, column) : d.pass_key;
    return RandomBits(key, static_cast<uint64_t>(d.offset + m)) >= threshold_;
  }

  float rate_;
  float scale_;
  uint64_t threshold_;
  uint64_t node_key_;
  Shape shape_;
  std::vector<int64_t> mask_strides_;
  int64_t mask_elements_;  // draws in one column of one step
  int column_axis_;
};

RF_REGISTER_KERNEL(
    "Dropout", [](const KernelInit& init) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      const float rate = init.GetFloat("rate");
      if (!(rate >= 0.f && rate < 1.f)) {
        return init.Error(absl::StrCat("attribute 'rate' must be in [0, 1); got ", rate));
      }
      const Shape& x = init.input_shapes[0];
      const int rank = static_cast<int>(x.size());
      std::vector<bool> shared(rank, false);
      for (int64_t axis : init.GetInts("shared_axes")) {
        if (axis < -rank || axis >= rank) {
          return init.Error(absl::StrCat("attribute 'shared_axes' entry ", axis,
                                         " is outside the input's rank ", rank));
        }
        shared[axis < 0 ? axis + rank : axis] = true;
      }
      int column_axis = init.input_column_axes.empty() ? -1 : init.input_column_axes[0];
      if (column_axis >= rank || (column_axis >= 0 && shared[column_axis])) {
        column_axis = -1;  // one mask for every column
      }
      // Row-major strides of one column's mask: x's shape with
      // 1 on shared axes and on the column axis.
      std::vector<int64_t> strides(rank, 0);
      int64_t stride = 1;
      for (int d = rank; d-- > 0;) {
        if (shared[d] || d == column_axis) continue;
        strides[d] = stride;
        stride *= x[d];
      }
      return std::unique_ptr<OpKernel>(
          new DropoutKernel(init, rate, std::move(strides), stride, column_axis));
    });

}  // namespace
}  // namespace rnnflow
