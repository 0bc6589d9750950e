// Loss kernels. Each produces a scalar [] that is the MEAN over positions;
// Backward scales by the incoming scalar gradient (an invalid output gradient
// means zero, so nothing is added). Sums are accumulated in double.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

constexpr int64_t kParallelMin = 1 << 14;

// log(sum(exp(x))) of one row, stable.
inline double LogSumExp(const float* x, int64_t v) {
  float m = x[0];
  for (int64_t j = 1; j < v; ++j) m = std::max(m, x[j]);
  double sum = 0.0;
  for (int64_t j = 0; j < v; ++j) sum += std::exp(static_cast<double>(x[j] - m));
  return m + std::log(sum);
}

float OutputGradScalar(const KernelContext& ctx) {
  return ctx.output_grads.empty() || !ctx.output_grads[0].valid() ? 0.f
                                                                  : ctx.output_grads[0].f32()[0];
}

class SoftmaxCrossEntropyKernel : public OpKernel {
 public:
  explicit SoftmaxCrossEntropyKernel(const KernelInit& init)
      : init_(init), ignore_(init.GetInt("ignore_label")) {}

  absl::Status Forward(KernelContext& ctx) override {
    const Tensor& logits = ctx.inputs[0];
    const Tensor& labels = ctx.inputs[1];
    const int64_t v = logits.dim(-1);
    const int64_t rows = labels.num_elements();
    if (rows * v != logits.num_elements()) {
      return init_.Error(absl::StrCat("labels ", ShapeToString(labels.shape()),
                                      " do not match logits ", ShapeToString(logits.shape())));
    }
    const int32_t* lab = labels.i32();
    int64_t count = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (lab[r] == ignore_) continue;
      if (lab[r] < 0 || lab[r] >= v) {
        return init_.Error(absl::StrCat(
            "label ", lab[r], " at position ", PositionString(labels.shape(), r),
            " of input 'labels' ", ShapeToString(labels.shape()), " is out of range [0, ", v, ")"));
      }
      ++count;
    }
    const float* x = logits.f32();
    double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (rows * v >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      if (lab[r] == ignore_) continue;
      const float* xr = x + r * v;
      total += LogSumExp(xr, v) - xr[lab[r]];
    }
    ctx.outputs[0].f32()[0] = count == 0 ? 0.f : static_cast<float>(total / count);
    return absl::OkStatus();
  }

  // d/dlogits = g / count * (softmax(logits) - onehot(label)).
  absl::Status Backward(KernelContext& ctx) override {
    const float g = OutputGradScalar(ctx);
    const Tensor& dx_t = ctx.input_grads[0];
    if (g == 0.f || !dx_t.valid()) return absl::OkStatus();
    const Tensor& logits = ctx.inputs[0];
    const int64_t v = logits.dim(-1);
    const int64_t rows = ctx.inputs[1].num_elements();
    const int32_t* lab = ctx.inputs[1].i32();
    int64_t count = 0;
    for (int64_t r = 0; r < rows; ++r) count += lab[r] != ignore_;
    if (count == 0) return absl::OkStatus();
    const double scale = static_cast<double>(g) / count;
    const float* x = logits.f32();
    float* dx = dx_t.f32();
#pragma omp parallel for schedule(static) if (rows * v >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      if (lab[r] == ignore_) continue;
      const float* xr = x + r * v;
      float* dr = dx + r * v;
      const double lse = LogSumExp(xr, v);
      for (int64_t j = 0; j < v; ++j) {
        dr[j] += static_cast<float>(scale * std::exp(xr[j] - lse));
      }
      dr[lab[r]] -= static_cast<float>(scale);
    }
    return absl::OkStatus();
  }

 private:
  KernelInit init_;
  int64_t ignore_;
};

// Elementwise losses against same-shaped float targets, optionally weighted
// (inputs[2]): sum(w * l) / sum(w), the masked mean for 0/1 weights.
class PointwiseLossKernel : public OpKernel {
 public:
  PointwiseLossKernel(const KernelInit& init, bool sigmoid_ce)
      : init_(init), sigmoid_ce_(sigmoid_ce) {}

  absl::Status Forward(KernelContext& ctx) override {
    const int64_t n = ctx.inputs[0].num_elements();
    const float* x = ctx.inputs[0].f32();
    const float* t = ctx.inputs[1].f32();
    const float* w = Weights(ctx);
    double denom = static_cast<double>(n);
    if (w != nullptr) {
      denom = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        if (!(w[i] >= 0.f)) {
          return init_.Error(absl::StrCat("weight ", w[i], " at position ",
                                          PositionString(ctx.inputs[2].shape(), i),
                                          " of input 'weights' is negative or not a number"));
        }
        denom += w[i];
      }
    }
    double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const double wi = w == nullptr ? 1.0 : w[i];
      if (wi == 0.0) continue;
      total += wi * Pointwise(x[i], t[i]);
    }
    ctx.outputs[0].f32()[0] = denom == 0.0 ? 0.f : static_cast<float>(total / denom);
    return absl::OkStatus();
  }

  absl::Status Backward(KernelContext& ctx) override {
    const float g = OutputGradScalar(ctx);
    const Tensor& dx_t = ctx.input_grads[0];
    const int64_t n = ctx.inputs[0].num_elements();
    if (g == 0.f || !dx_t.valid() || n == 0) return absl::OkStatus();
    const float* x = ctx.inputs[0].f32();
    const float* t = ctx.inputs[1].f32();
    const float* w = Weights(ctx);
    double denom = static_cast<double>(n);
    if (w != nullptr) {
      denom = 0.0;
      for (int64_t i = 0; i < n; ++i) denom += w[i];
      if (denom == 0.0) return absl::OkStatus();
    }
    float* dx = dx_t.f32();
    const double scale = static_cast<double>(g) / denom;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const double wi = w == nullptr ? 1.0 : w[i];
      if (wi == 0.0) continue;
      double d;
      if (sigmoid_ce_) {
        const double s = x[i] >= 0.f ? 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])))
                                     : std::exp(static_cast<double>(x[i])) /
                                           (1.0 + std::exp(static_cast<double>(x[i])));
        d = s - t[i];
      } else {
        d = 2.0 * (static_cast<double>(x[i]) - t[i]);
      }
      dx[i] += static_cast<float>(scale * wi * d);
    }
    return absl::OkStatus();
  }

 private:
  static const float* Weights(const KernelContext& ctx) {
    return ctx.inputs.size() > 2 && ctx.inputs[2].valid() ? ctx.inputs[2].f32() : nullptr;
  }
  double Pointwise(float xf, float tf) const {
    const double xi = xf;
    if (sigmoid_ce_) return std::max(xi, 0.0) - xi * tf + std::log1p(std::exp(-std::fabs(xi)));
    const double d = xi - tf;
    return d * d;
  }

  KernelInit init_;
  bool sigmoid_ce_;
};

using KernelOr = absl::StatusOr<std::unique_ptr<OpKernel>>;

absl::Status CheckLossInit(const KernelInit& init) {
  if (init.input_shapes.size() < 2 || init.input_shapes.size() > 3) {
    return init.Error("expects two or three inputs");
  }
  if (init.output_shapes.size() != 1 || NumElements(init.output_shapes[0]) != 1) {
    return init.Error("the loss output must be a scalar []");
  }
  return absl::OkStatus();
}

RF_REGISTER_KERNEL("SoftmaxCrossEntropy", [](const KernelInit& init) -> KernelOr {
  RF_RETURN_IF_ERROR(CheckLossInit(init));
  const Shape& logits = init.input_shapes[0];
  const Shape& labels = init.input_shapes[1];
  if (logits.empty() || logits.back() <= 0 || Shape(logits.begin(), logits.end() - 1) != labels) {
    return init.Error(absl::StrCat("labels ", ShapeToString(labels), " do not match logits ",
                                   ShapeToString(logits)));
  }
  return std::unique_ptr<OpKernel>(new SoftmaxCrossEntropyKernel(init));
});
RF_REGISTER_KERNEL("SigmoidCrossEntropy", [](const KernelInit& init) -> KernelOr {
  RF_RETURN_IF_ERROR(CheckLossInit(init));
  return std::unique_ptr<OpKernel>(new PointwiseLossKernel(init, /*sigmoid_ce=*/true));
});
RF_REGISTER_KERNEL("MeanSquaredError", [](const KernelInit& init) -> KernelOr {
  RF_RETURN_IF_ERROR(CheckLossInit(init));
  return std::unique_ptr<OpKernel>(new PointwiseLossKernel(init, /*sigmoid_ce=*/false));
});

}  // namespace
}  // namespace rnnflow
