// Optimizers, gradient clipping and learning-rate schedules for training.
//
// An Optimizer is created once per training run from the model's
// TrainingDef and the shapes of its parameters; it allocates all of its state
// then, so Apply() allocates nothing.
#ifndef RNNFLOW_TRAINING_OPTIMIZER_H_
#define RNNFLOW_TRAINING_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

// Base learning rates used when LearningRateDef.base is 0.
inline constexpr float kDefaultAdamLearningRate = 1e-3f;
inline constexpr float kDefaultSgdLearningRate = 0.1f;

// Checks a TrainingDef; errors are InvalidArgument and name the field, e.g.
// "training.learning_rate.schedule: unknown schedule 'linear'; expected one
// of constant, exponential, step, cosine". Rules:
//   - schedule is "", "constant", "exponential", "step" or "cosine";
//   - exponential and step need decay_steps > 0 and rate > 0;
//   - base, min, warmup_steps, clip_global_norm, weight_decay are >= 0;
//   - sgd.momentum in [0, 1); nesterov needs momentum > 0;
//   - adam.beta1, adam.beta2 in [0, 1) (0 = default), adam.epsilon >= 0.
absl::Status ValidateTrainingDef(const TrainingDef& def);

// The learning rate for optimizer step `step` (0-based: the step about to be
// applied) of a run of `total_steps` steps. `default_base` replaces a base of
// 0 (pass kDefaultAdamLearningRate or kDefaultSgdLearningRate, or use
// Optimizer::LearningRate which picks it). With W = warmup_steps and
// s = step - W (the schedule starts after warmup):
//   warmup (step < W): base * (step + 1) / W   (linear ramp, reaches base)
//   "" / "constant":   base
//   "exponential":     base * rate^(s / decay_steps)           (continuous)
//   "step":            base * rate^floor(s / decay_steps)
//   "cosine":          min + (base - min) * (1 + cos(pi * s / D)) / 2, with
//                      D = total_steps - W and s clamped to [0, D]; base when
//                      D <= 0.
// The def is assumed valid (ValidateTrainingDef); an unknown schedule gives
// the base rate.
float LearningRate(const LearningRateDef& def, int64_t step, int64_t total_steps,
                   float default_base = kDefaultAdamLearningRate);

// Scales every valid tensor in `grads` by max_norm / norm when the global L2
// norm over all of them exceeds max_norm. Returns the norm before clipping.
// No-op (but still returns the norm) when max_norm <= 0 or the norm is not
// finite, so the caller can detect NaN/Inf gradients.
float ClipByGlobalNorm(absl::Span<const Tensor> grads, float max_norm);

// SGD (optionally with momentum / Nesterov momentum) or Adam, with optional
// decoupled weight decay (AdamW style: p -= lr * weight_decay * p, applied
// with the old p, for both optimizers). A TrainingDef without an optimizer
// block means Adam with defaults. Update rules for gradient g and rate lr:
//   SGD, momentum 0:   p -= lr * g                          (no state)
//   SGD, momentum mu:  v = mu * v + g;  p -= lr * v
//   Nesterov:          v = mu * v + g;  p -= lr * (g + mu * v)
//   Adam (t = step() + 1; beta1 .9, beta2 .999, eps 1e-8 when 0):
//     m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g^2
//     p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
class Optimizer {
 public:
  enum class Kind { kSgd, kAdam };

  // Validates `def` and allocates the state (zeros) for parameters of the
  // given shapes, in the order Apply() will receive them.
  static absl::StatusOr<std::unique_ptr<Optimizer>> Create(const TrainingDef& def,
                                                           std::vector<Shape> param_shapes);

  // One update of every parameter; `params` and `grads` must match the
  // shapes given to Create, in order. An invalid (null) gradient tensor
  // leaves its parameter and state untouched. Increments step().
  absl::Status Apply(absl::Span<const Tensor> params, absl::Span<const Tensor> grads, float lr);

  // Number of Apply() calls so far (Adam's bias correction uses it). Restore
  // it with set_step() when loading a checkpoint.
  int64_t step() const { return step_; }
  void set_step(int64_t step) { step_ = step; }

  Kind kind() const { return kind_; }
  // The learning rate for the next step under the TrainingDef's schedule,
  // with this optimizer's default base rate.
  float LearningRate(int64_t total_steps) const;

  // State slots per parameter: {} (plain SGD), {"momentum"} (SGD with
  // momentum) or {"m", "v"} (Adam).
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  // Views of all state tensors, parameter-major: for parameter p and slot s
  // the tensor is at index p * slot_names().size() + s, with p's shape.
  // Writable: a checkpoint loader copies saved values into them.
  std::vector<Tensor> StateTensors();

 private:
  Optimizer() = default;

  TrainingDef def_;
  Kind kind_ = Kind::kAdam;
  std::vector<Shape> shapes_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<float>> state_;  // parameter-major, as above
  int64_t step_ = 0;
  float momentum_ = 0.f;
  bool nesterov_ = false;
  float beta1_ = 0.9f;
  float beta2_ = 0.999f;
  float epsilon_ = 1e-8f;
  float weight_decay_ = 0.f;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_OPTIMIZER_H_
