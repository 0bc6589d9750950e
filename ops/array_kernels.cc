// Concat and Slice along one axis. Both view a tensor as
// [outer, size along axis, inner] and move contiguous slabs.
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

constexpr int64_t kParallelMin = 1 << 14;

struct AxisSplit {
  int64_t outer = 1;
  int64_t inner = 1;
};

AxisSplit SplitAt(const Shape& s, int axis) {
  AxisSplit split;
  for (int d = 0; d < axis; ++d) split.outer *= s[d];
  for (int d = axis + 1; d < static_cast<int>(s.size()); ++d) split.inner *= s[d];
  return split;
}

// `axis` (negative counts from the end) normalized against the kernel's rank.
absl::StatusOr<int> KernelAxis(const KernelInit& init, int rank) {
  const int64_t axis = init.GetInt("axis");
  if (axis < -rank || axis >= rank) {
    return init.Error(absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

class ConcatKernel : public OpKernel {
 public:
  ConcatKernel(int64_t outer, std::vector<int64_t> slabs)
      : outer_(outer), slabs_(std::move(slabs)) {
    for (int64_t s : slabs_) total_ += s;
  }

  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelInit& init) {
    if (init.input_shapes.empty()) return init.Error("needs at least one input");
    const Shape& first = init.input_shapes[0];
    RF_ASSIGN_OR_RETURN(const int axis, KernelAxis(init, static_cast<int>(first.size())));
    const AxisSplit split = SplitAt(first, axis);
    std::vector<int64_t> slabs;
    for (const Shape& s : init.input_shapes) {
      if (s.size() != first.size() || SplitAt(s, axis).outer != split.outer ||
          SplitAt(s, axis).inner != split.inner) {
        return init.Error(absl::StrCat("input ", ShapeToString(s), " does not match ",
                                       ShapeToString(first), " outside axis ", axis));
      }
      slabs.push_back(s[axis] * split.inner);
    }
    return std::unique_ptr<OpKernel>(new ConcatKernel(split.outer, std::move(slabs)));
  }

  absl::Status Forward(KernelContext& ctx) override {
    float* y = ctx.outputs[0].f32();
    const int64_t n = static_cast<int64_t>(slabs_.size());
#pragma omp parallel for schedule(static) if (outer_ * total_ >= kParallelMin)
    for (int64_t o = 0; o < outer_; ++o) {
      float* dst = y + o * total_;
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(dst, ctx.inputs[i].f32() + o * slabs_[i], slabs_[i] * sizeof(float));
        dst += slabs_[i];
      }
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    if (!dy_t.valid()) return absl::OkStatus();
    const float* dy = dy_t.f32();
    int64_t offset = 0;
    for (size_t i = 0; i < slabs_.size(); ++i) {
      const int64_t slab = slabs_[i];
      if (ctx.input_grads[i].valid()) {
        float* dx = ctx.input_grads[i].f32();
#pragma omp parallel for schedule(static) if (outer_ * slab >= kParallelMin)
        for (int64_t o = 0; o < outer_; ++o) {
          const float* src = dy + o * total_ + offset;
          float* dst = dx + o * slab;
          for (int64_t j = 0; j < slab; ++j) dst[j] += src[j];
        }
      }
      offset += slab;
    }
    return absl::OkStatus();
  }

 private:
  int64_t outer_;
  std::vector<int64_t> slabs_;  // elements per outer index, per input
  int64_t total_ = 0;
};

class SliceKernel : public OpKernel {
 public:
  SliceKernel(int64_t outer, int64_t in_slab, int64_t offset, int64_t out_slab)
      : outer_(outer), in_slab_(in_slab), offset_(offset), out_slab_(out_slab) {}

  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelInit& init) {
    if (init.input_shapes.size() != 1) return init.Error("expects one input");
    const Shape& x = init.input_shapes[0];
    RF_ASSIGN_OR_RETURN(const int axis, KernelAxis(init, static_cast<int>(x.size())));
    const int64_t begin = init.GetInt("begin");
    int64_t size = init.GetInt("size");
    if (size == -1) size = x[axis] - begin;
    if (begin < 0 || size <= 0 || begin + size > x[axis]) {
      return init.Error(absl::StrCat("slice [", begin, ", ", begin + size,
                                     ") is out of bounds for axis ", axis, " of ",
                                     ShapeToString(x)));
    }
    const AxisSplit split = SplitAt(x, axis);
    return std::unique_ptr<OpKernel>(new SliceKernel(split.outer, x[axis] * split.inner,
                                                     begin * split.inner, size * split.inner));
  }

  absl::Status Forward(KernelContext& ctx) override {
    const float* x = ctx.inputs[0].f32();
    float* y = ctx.outputs[0].f32();
#pragma omp parallel for schedule(static) if (outer_ * out_slab_ >= kParallelMin)
    for (int64_t o = 0; o < outer_; ++o) {
      std::memcpy(y + o * out_slab_, x + o * in_slab_ + offset_, out_slab_ * sizeof(float));
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    if (!ctx.output_grads[0].valid() || !ctx.input_grads[0].valid()) {
      return absl::OkStatus();
    }
    const float* dy = ctx.output_grads[0].f32();
    float* dx = ctx.input_grads[0].f32();
#pragma omp parallel for schedule(static) if (outer_ * out_slab_ >= kParallelMin)
    for (int64_t o = 0; o < outer_; ++o) {
      float* dst = dx + o * in_slab_ + offset_;
      const float* src = dy + o * out_slab_;
      for (int64_t j = 0; j < out_slab_; ++j) dst[j] += src[j];
    }
    return absl::OkStatus();
  }

 private:
  int64_t outer_, in_slab_, offset_, out_slab_;
};

RF_REGISTER_KERNEL("Concat", ConcatKernel::Create);
RF_REGISTER_KERNEL("Slice", SliceKernel::Create);

}  // namespace
}  // namespace rnnflow
