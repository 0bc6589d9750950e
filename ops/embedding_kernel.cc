// Embedding lookup: y[p, :] = table[ids[p], :] over every position p of ids.
#include <omp.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

class EmbeddingKernel : public OpKernel {
 public:
  EmbeddingKernel(const KernelInit& init, int64_t vocab, int64_t dim)
      : node_name_(init.node_name), op_(init.op), vocab_(vocab), dim_(dim) {}

  absl::Status Forward(KernelContext& ctx) override {
    const Tensor& ids = ctx.inputs[0];
    const Tensor& table = ctx.inputs[1];
    const Tensor& y = ctx.outputs[0];
    const int64_t n = ids.num_elements();
    if (y.num_elements() != n * dim_) {
      return Error(absl::StrCat("output ", ShapeToString(y.shape()), " does not match ids ",
                                ShapeToString(ids.shape())));
    }
    const int32_t* id = ids.i32();
    // Validate first (cheap) so that the copy below can run in parallel.
    for (int64_t p = 0; p < n; ++p) {
      if (id[p] < 0 || id[p] >= vocab_) {
        return Error(absl::StrCat("id ", id[p], " at position ", PositionString(ids.shape(), p),
                                  " of input 'ids' ", ShapeToString(ids.shape()),
                                  " is out of range [0, ", vocab_, ")"));
      }
    }
    const float* t = table.f32();
    float* out = y.f32();
    const int64_t dim = dim_;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < n; ++p) {
      std::memcpy(out + p * dim, t + static_cast<int64_t>(id[p]) * dim, dim * sizeof(float));
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy = ctx.output_grads[0];
    const Tensor& dtable = ctx.input_grads.size() > 1 ? ctx.input_grads[1] : Tensor();
    if (!dy.valid() || !dtable.valid()) return absl::OkStatus();
    const int32_t* id = ctx.inputs[0].i32();
    const int64_t n = ctx.inputs[0].num_elements();
    const int64_t dim = dim_;
    const float* g = dy.f32();
    float* dt = dtable.f32();
    // Rows may repeat, so threads own disjoint column ranges instead of
    // positions: no two threads ever write the same element.
#pragma omp parallel if (n * dim >= (1 << 14))
    {
      const int nt = omp_get_num_threads();
      const int th = omp_get_thread_num();
      const int64_t c0 = dim * th / nt;
      const int64_t c1 = dim * (th + 1) / nt;
      for (int64_t p = 0; p < n; ++p) {
        float* dst = dt + static_cast<int64_t>(id[p]) * dim;
        const float* src = g + p * dim;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node_name_, "' (", op_, "): ", message));
  }

  std::string node_name_;
  std::string op_;
  int64_t vocab_;
  int64_t dim_;
};

RF_REGISTER_KERNEL("Embedding",
                   [](const KernelInit& init) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                     if (init.input_shapes.size() != 2 || init.input_shapes[1].size() != 2) {
                       return init.Error("expected inputs ids and table [vocab, dim]");
                     }
                     if (init.input_dtypes[0] != INT32) {
                       return init.Error("input 'ids' must be INT32");
                     }
                     const Shape& table = init.input_shapes[1];
                     return std::unique_ptr<OpKernel>(
                         new EmbeddingKernel(init, table[0], table[1]));
                   });

}  // namespace
}  // namespace rnnflow
