// Elementwise kernels (Tanh, Sigmoid, Relu, Add, Mul) and Softmax over the
// last axis. None keeps state between Forward and Backward (in step mode the
// backward calls come in reverse order, long after the forward ones), so
// Backward works from the inputs and outputs it is handed.
#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

// Below this many elements, OpenMP fork/join costs more than it saves.
constexpr int64_t kParallelMin = 1 << 14;

enum class Unary { kTanh, kSigmoid, kRelu };

inline float StableSigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.f + e);
}

class UnaryKernel : public OpKernel {
 public:
  explicit UnaryKernel(Unary kind) : kind_(kind) {}

  absl::Status Forward(KernelContext& ctx) override {
    const float* x = ctx.inputs[0].f32();
    float* y = ctx.outputs[0].f32();
    const int64_t n = ctx.inputs[0].num_elements();
    switch (kind_) {
      case Unary::kTanh:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
        break;
      case Unary::kSigmoid:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) y[i] = StableSigmoid(x[i]);
        break;
      case Unary::kRelu:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
        break;
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    const Tensor& dx_t = ctx.input_grads[0];
    if (!dy_t.valid() || !dx_t.valid()) return absl::OkStatus();
    const float* y = ctx.outputs[0].f32();
    const float* dy = dy_t.f32();
    float* dx = dx_t.f32();
    const int64_t n = dx_t.num_elements();
    switch (kind_) {
      case Unary::kTanh:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (1.f - y[i] * y[i]);
        break;
      case Unary::kSigmoid:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (1.f - y[i]);
        break;
      case Unary::kRelu:
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) dx[i] += y[i] > 0.f ? dy[i] : 0.f;
        break;
    }
    return absl::OkStatus();
  }

 private:
  Unary kind_;
};

enum class Binary { kAdd, kSub, kMul };

// y = a (+|-|*) b, with b's elements repeated over a's leading dims.
class BinaryKernel : public OpKernel {
 public:
  BinaryKernel(const KernelInit& init, Binary kind)
      : init_(init), mul_(kind == Binary::kMul), sign_(kind == Binary::kSub ? -1.f : 1.f) {}

  absl::Status Forward(KernelContext& ctx) override {
    RF_RETURN_IF_ERROR(Check(ctx.inputs[0], ctx.inputs[1]));
    const float* a = ctx.inputs[0].f32();
    const float* b = ctx.inputs[1].f32();
    float* y = ctx.outputs[0].f32();
    const int64_t na = ctx.inputs[0].num_elements();
    const int64_t nb = ctx.inputs[1].num_elements();
    if (na == 0) return absl::OkStatus();
    const int64_t reps = na / nb;
#pragma omp parallel for schedule(static) if (na >= kParallelMin)
    for (int64_t r = 0; r < reps; ++r) {
      const float* ar = a + r * nb;
      float* yr = y + r * nb;
      if (mul_) {
        for (int64_t j = 0; j < nb; ++j) yr[j] = ar[j] * b[j];
      } else {
        for (int64_t j = 0; j < nb; ++j) yr[j] = ar[j] + sign_ * b[j];
      }
    }
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    if (!dy_t.valid()) return absl::OkStatus();
    const float* a = ctx.inputs[0].f32();
    const float* b = ctx.inputs[1].f32();
    const float* dy = dy_t.f32();
    const int64_t na = ctx.inputs[0].num_elements();
    const int64_t nb = ctx.inputs[1].num_elements();
    if (na == 0) return absl::OkStatus();
    const int64_t reps = na / nb;
    if (ctx.input_grads[0].valid()) {
      float* da = ctx.input_grads[0].f32();
      if (mul_) {
#pragma omp parallel for schedule(static) if (na >= kParallelMin)
        for (int64_t r = 0; r < reps; ++r) {
          for (int64_t j = 0; j < nb; ++j) da[r * nb + j] += dy[r * nb + j] * b[j];
        }
      } else {
#pragma omp parallel for schedule(static) if (na >= kParallelMin)
        for (int64_t i = 0; i < na; ++i) da[i] += dy[i];
      }
    }
    if (ctx.input_grads[1].valid()) {
      float* db = ctx.input_grads[1].f32();
      // Reduce over the repeats; threads own disjoint ranges of b when b is
      // wide enough, otherwise one thread does it.
      const bool wide = nb >= 256 && na >= kParallelMin;
#pragma omp parallel for schedule(static) if (wide)
      for (int64_t j0 = 0; j0 < nb; j0 += 64) {
        const int64_t j1 = std::min(nb, j0 + 64);
        for (int64_t r = 0; r < reps; ++r) {
          const float* g = dy + r * nb;
          if (mul_) {
            const float* ar = a + r * nb;
            for (int64_t j = j0; j < j1; ++j) db[j] += g[j] * ar[j];
          } else {
            for (int64_t j = j0; j < j1; ++j) db[j] += sign_ * g[j];
          }
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Check(const Tensor& a, const Tensor& b) const {
    const int64_t na = a.num_elements();
    const int64_t nb = b.num_elements();
    if (b.rank() > a.rank() || (nb == 0 ? na != 0 : na % nb != 0) ||
        !std::equal(b.shape().begin(), b.shape().end(),
                    a.shape().end() - std::min(a.rank(), b.rank()))) {
      return init_.Error(absl::StrCat("input 'b' ", ShapeToString(b.shape()),
                                      " is not a suffix of input 'a' ", ShapeToString(a.shape())));
    }
    return absl::OkStatus();
  }

  KernelInit init_;
  bool mul_;
  float sign_;  // -1 for Sub
};

class SoftmaxKernel : public OpKernel {
 public:
  absl::Status Forward(KernelContext& ctx) override {
    const Tensor& x_t = ctx.inputs[0];
    const int64_t c = x_t.rank() == 0 ? 1 : x_t.dim(-1);
    if (c == 0) return absl::OkStatus();
    const int64_t rows = x_t.num_elements() / c;
    const float* x = x_t.f32();
    float* y = ctx.outputs[0].f32();
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      float m = xr[0];
      for (int64_t j = 1; j < c; ++j) m = std::max(m, xr[j]);
      double sum = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        yr[j] = std::exp(xr[j] - m);
        sum += yr[j];
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < c; ++j) yr[j] *= inv;
    }
    return absl::OkStatus();
  }

  // dx = y * (dy - sum(dy * y)) per row.
  absl::Status Backward(KernelContext& ctx) override {
    const Tensor& dy_t = ctx.output_grads[0];
    const Tensor& dx_t = ctx.input_grads[0];
    if (!dy_t.valid() || !dx_t.valid()) return absl::OkStatus();
    const int64_t c = dx_t.rank() == 0 ? 1 : dx_t.dim(-1);
    if (c == 0) return absl::OkStatus();
    const int64_t rows = dx_t.num_elements() / c;
    const float* y = ctx.outputs[0].f32();
    const float* dy = dy_t.f32();
    float* dx = dx_t.f32();
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = y + r * c;
      const float* gr = dy + r * c;
      float* dr = dx + r * c;
      double dot = 0.0;
      for (int64_t j = 0; j < c; ++j) dot += static_cast<double>(gr[j]) * yr[j];
      const float d = static_cast<float>(dot);
      for (int64_t j = 0; j < c; ++j) dr[j] += yr[j] * (gr[j] - d);
    }
    return absl::OkStatus();
  }
};

using KernelOr = absl::StatusOr<std::unique_ptr<OpKernel>>;

RF_REGISTER_KERNEL("Tanh", [](const KernelInit&) -> KernelOr {
  return std::unique_ptr<OpKernel>(new UnaryKernel(Unary::kTanh));
});
RF_REGISTER_KERNEL("Sigmoid", [](const KernelInit&) -> KernelOr {
  return std::unique_ptr<OpKernel>(new UnaryKernel(Unary::kSigmoid));
});
RF_REGISTER_KERNEL("Relu", [](const KernelInit&) -> KernelOr {
  return std::unique_ptr<OpKernel>(new UnaryKernel(Unary::kRelu));
});
RF_REGISTER_KERNEL("Add", [](const KernelInit& init) -> KernelOr {
  return std::unique_ptr<OpKernel>(new BinaryKernel(init, Binary::kAdd));
});
RF_REGISTER_KERNEL("Mul", [](const KernelInit& init) -> KernelOr {
  return std::unique_ptr<OpKernel>(new BinaryKernel(init, Binary::kMul));
});
RF_REGISTER_KERNEL("Sub", [](const KernelInit& init) -> KernelOr {
  return std::unique_ptr<OpKernel>(new BinaryKernel(init, Binary::kSub));
});
RF_REGISTER_KERNEL("Softmax", [](const KernelInit& init) -> KernelOr {
  if (init.input_shapes.empty() || init.input_shapes[0].empty()) {
    return init.Error("input 'x' must have rank >= 1");
  }
  return std::unique_ptr<OpKernel>(new SoftmaxKernel());
});

}  // namespace
}  // namespace rnnflow
