#include "rnnflow/training/optimizer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

constexpr int64_t kParallelMin = 1 << 14;

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("training.", field, ": ", message));
}

absl::Status ExpectNonNegative(absl::string_view field, double v) {
  if (v >= 0) return absl::OkStatus();  // also rejects NaN
  return FieldError(field, absl::StrCat("must be >= 0; got ", v));
}

absl::Status ExpectUnitInterval(absl::string_view field, double v) {
  if (v >= 0 && v < 1) return absl::OkStatus();
  return FieldError(field, absl::StrCat("must be in [0, 1); got ", v));
}

}  // namespace

absl::Status ValidateTrainingDef(const TrainingDef& def) {
  const LearningRateDef& lr = def.learning_rate();
  const std::string& s = lr.schedule();
  if (!s.empty() && s != "constant" && s != "exponential" && s != "step" && s != "cosine") {
    return FieldError("learning_rate.schedule",
                      absl::StrCat("unknown schedule '", s,
                                   "'; expected one of constant, exponential, step, "
                                   "cosine"));
  }
  RF_RETURN_IF_ERROR(ExpectNonNegative("learning_rate.base", lr.base()));
  RF_RETURN_IF_ERROR(ExpectNonNegative("learning_rate.min", lr.min()));
  RF_RETURN_IF_ERROR(
      ExpectNonNegative("learning_rate.warmup_steps", static_cast<double>(lr.warmup_steps())));
  if (s == "exponential" || s == "step") {
    if (lr.decay_steps() <= 0) {
      return FieldError("learning_rate.decay_steps",
                        absl::StrCat("must be > 0 for schedule '", s, "'; got ", lr.decay_steps()));
    }
    if (!(lr.rate() > 0)) {
      return FieldError("learning_rate.rate",
                        absl::StrCat("must be > 0 for schedule '", s, "'; got ", lr.rate()));
    }
  }
  RF_RETURN_IF_ERROR(ExpectNonNegative("clip_global_norm", def.clip_global_norm()));
  RF_RETURN_IF_ERROR(ExpectNonNegative("weight_decay", def.weight_decay()));
  if (def.has_sgd()) {
    RF_RETURN_IF_ERROR(ExpectUnitInterval("sgd.momentum", def.sgd().momentum()));
    if (def.sgd().nesterov() && def.sgd().momentum() == 0.f) {
      return FieldError("sgd.nesterov", "needs momentum > 0");
    }
  }
  if (def.has_adam()) {
    RF_RETURN_IF_ERROR(ExpectUnitInterval("adam.beta1", def.adam().beta1()));
    RF_RETURN_IF_ERROR(ExpectUnitInterval("adam.beta2", def.adam().beta2()));
    RF_RETURN_IF_ERROR(ExpectNonNegative("adam.epsilon", def.adam().epsilon()));
  }
  return absl::OkStatus();
}

float LearningRate(const LearningRateDef& def, int64_t step, int64_t total_steps,
                   float default_base) {
  const double base = def.base() > 0 ? def.base() : default_base;
  const int64_t warmup = def.warmup_steps();
  if (step < 0) step = 0;
  if (warmup > 0 && step < warmup) {
    return static_cast<float>(base * static_cast<double>(step + 1) / warmup);
  }
  const int64_t s = step - std::max<int64_t>(warmup, 0);
  const std::string& kind = def.schedule();
  if (kind == "exponential" && def.decay_steps() > 0) {
    return static_cast<float>(base * std::pow(static_cast<double>(def.rate()),
                                              static_cast<double>(s) / def.decay_steps()));
  }
  if (kind == "step" && def.decay_steps() > 0) {
    return static_cast<float>(base * std::pow(static_cast<double>(def.rate()),
                                              static_cast<double>(s / def.decay_steps())));
  }
  if (kind == "cosine") {
    const int64_t d = total_steps - std::max<int64_t>(warmup, 0);
    if (d <= 0) return static_cast<float>(base);
    const double frac = static_cast<double>(std::min(s, d)) / d;
    const double lo = def.min();
    return static_cast<float>(lo + (base - lo) * 0.5 * (1.0 + std::cos(M_PI * frac)));
  }
  return static_cast<float>(base);
}

float ClipByGlobalNorm(absl::Span<const Tensor> grads, float max_norm) {
  double sum = 0.0;
  for (const Tensor& g : grads) {
    if (!g.valid()) continue;
    const float* p = g.f32();
    const int64_t n = g.num_elements();
    double part = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : part) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) part += static_cast<double>(p[i]) * p[i];
    sum += part;
  }
  const double norm = std::sqrt(sum);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (const Tensor& g : grads) {
      if (!g.valid()) continue;
      float* p = g.f32();
      const int64_t n = g.num_elements();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; ++i) p[i] *= scale;
    }
  }
  return static_cast<float>(norm);
}

absl::StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const TrainingDef& def,
                                                             std::vector<Shape> param_shapes) {
  RF_RETURN_IF_ERROR(ValidateTrainingDef(def));
  std::unique_ptr<Optimizer> opt(new Optimizer());
  opt->def_ = def;
  opt->shapes_ = std::move(param_shapes);
  opt->weight_decay_ = def.weight_decay();
  if (def.has_sgd()) {
    opt->kind_ = Kind::kSgd;
    opt->momentum_ = def.sgd().momentum();
    opt->nesterov_ = def.sgd().nesterov();
    if (opt->momentum_ > 0) opt->slot_names_ = {"momentum"};
  } else {
    opt->kind_ = Kind::kAdam;
    const AdamDef& a = def.adam();
    if (a.beta1() > 0) opt->beta1_ = a.beta1();
    if (a.beta2() > 0) opt->beta2_ = a.beta2();
    if (a.epsilon() > 0) opt->epsilon_ = a.epsilon();
    opt->slot_names_ = {"m", "v"};
  }
  for (const Shape& s : opt->shapes_) {
    for (size_t k = 0; k < opt->slot_names_.size(); ++k) {
      opt->state_.emplace_back(static_cast<size_t>(NumElements(s)), 0.f);
    }
  }
  return opt;
}

float Optimizer::LearningRate(int64_t total_steps) const {
  return rnnflow::LearningRate(
      def_.learning_rate(), step_, total_steps,
      kind_ == Kind::kSgd ? kDefaultSgdLearningRate : kDefaultAdamLearningRate);
}

std::vector<Tensor> Optimizer::StateTensors() {
  std::vector<Tensor> out;
  const size_t slots = slot_names_.size();
  for (size_t p = 0; p < shapes_.size(); ++p) {
    for (size_t s = 0; s < slots; ++s) {
      out.emplace_back(FLOAT32, shapes_[p], state_[p * slots + s].data());
    }
  }
  return out;
}

absl::Status Optimizer::Apply(absl::Span<const Tensor> params, absl::Span<const Tensor> grads,
                              float lr) {
  if (params.size() != shapes_.size() || grads.size() != shapes_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("optimizer: expected ", shapes_.size(),
                                                   " parameters and gradients; got ", params.size(),
                                                   " and ", grads.size()));
  }
  for (size_t p = 0; p < shapes_.size(); ++p) {
    if (params[p].shape() != shapes_[p] || (grads[p].valid() && grads[p].shape() != shapes_[p])) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer: parameter ", p, " has shape ", ShapeToString(params[p].shape()),
                       " and gradient shape ", ShapeToString(grads[p].shape()), "; expected ",
                       ShapeToString(shapes_[p])));
    }
  }
  const int64_t t = step_ + 1;
  const float decay = lr * weight_decay_;
  // Adam's bias corrections folded into one step size:
  //   lr * mhat / (sqrt(vhat) + eps) = alpha * m / (sqrt(v) / sqrt(c2) + eps)
  const double c1 = 1.0 - std::pow(static_cast<double>(beta1_), static_cast<double>(t));
  const double c2 = 1.0 - std::pow(static_cast<double>(beta2_), static_cast<double>(t));
  const float alpha = static_cast<float>(lr / c1);
  const float inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(c2));
  const size_t slots = slot_names_.size();
  for (size_t p = 0; p < shapes_.size(); ++p) {
    if (!grads[p].valid()) continue;
    float* w = params[p].f32();
    const float* g = grads[p].f32();
    const int64_t n = params[p].num_elements();
    if (kind_ == Kind::kAdam) {
      float* m = state_[p * slots].data();
      float* v = state_[p * slots + 1].data();
      const float b1 = beta1_, b2 = beta2_, eps = epsilon_;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + (1.f - b1) * g[i];
        v[i] = b2 * v[i] + (1.f - b2) * g[i] * g[i];
        w[i] -= alpha * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps) + decay * w[i];
      }
    } else if (momentum_ > 0) {
      float* vel = state_[p * slots].data();
      const float mu = momentum_;
      const bool nesterov = nesterov_;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; ++i) {
        vel[i] = mu * vel[i] + g[i];
        const float step = nesterov ? g[i] + mu * vel[i] : vel[i];
        w[i] -= lr * step + decay * w[i];
      }
    } else {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i] + decay * w[i];
    }
  }
  ++step_;
  return absl::OkStatus();
}

}  // namespace rnnflow
