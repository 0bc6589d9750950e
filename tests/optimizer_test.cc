// Optimizer updates against hand-computed values, gradient clipping,
// learning-rate schedules and TrainingDef validation (training/optimizer.h).
#include "rnnflow/training/optimizer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

TrainingDef Sgd(float momentum = 0.f, bool nesterov = false) {
  TrainingDef def;
  def.mutable_sgd()->set_momentum(momentum);
  def.mutable_sgd()->set_nesterov(nesterov);
  return def;
}

TrainingDef Adam() {
  TrainingDef def;
  def.mutable_adam();
  return def;
}

// One scalar parameter p with gradient g, updated for each of `grads`;
// returns p after every step.
std::vector<float> RunSteps(const TrainingDef& def, float p0, const std::vector<float>& grads,
                            float lr) {
  auto opt = Optimizer::Create(def, {{1}});
  EXPECT_TRUE(opt.ok()) << opt.status();
  float p = p0, g = 0;
  std::vector<float> out;
  for (float gi : grads) {
    g = gi;
    Tensor pt(FLOAT32, {1}, &p), gt(FLOAT32, {1}, &g);
    EXPECT_TRUE((*opt)->Apply({pt}, {gt}, lr).ok());
    out.push_back(p);
  }
  EXPECT_EQ((*opt)->step(), static_cast<int64_t>(grads.size()));
  return out;
}

TEST(OptimizerTest, PlainSgd) {
  auto p = RunSteps(Sgd(), 1.f, {0.5f, 0.5f, -1.f}, 0.1f);
  EXPECT_FLOAT_EQ(p[0], 0.95f);
  EXPECT_FLOAT_EQ(p[1], 0.9f);
  EXPECT_FLOAT_EQ(p[2], 1.0f);
  auto opt = Optimizer::Create(Sgd(), {{3}});
  ASSERT_TRUE(opt.ok());
  EXPECT_TRUE((*opt)->slot_names().empty());
  EXPECT_TRUE((*opt)->StateTensors().empty());
}

TEST(OptimizerTest, SgdMomentum) {
  // v = 0.9 v + g;  p -= 0.1 v  with g = 1: v = 1, 1.9, 2.71.
  auto p = RunSteps(Sgd(0.9f), 1.f, {1.f, 1.f, 1.f}, 0.1f);
  EXPECT_FLOAT_EQ(p[0], 0.9f);
  EXPECT_FLOAT_EQ(p[1], 0.71f);
  EXPECT_NEAR(p[2], 0.439f, 1e-6);
}

TEST(OptimizerTest, SgdNesterov) {
  // p -= 0.1 (g + 0.9 v): steps 1.9, then 1 + 0.9 * 1.9 = 2.71.
  auto p = RunSteps(Sgd(0.9f, true), 1.f, {1.f, 1.f}, 0.1f);
  EXPECT_FLOAT_EQ(p[0], 0.81f);
  EXPECT_NEAR(p[1], 0.539f, 1e-6);
}

TEST(OptimizerTest, AdamDefaults) {
  // Reference values computed in double from the bias-corrected update.
  auto p = RunSteps(Adam(), 0.5f, {1.f, -2.f, 0.5f}, 0.01f);
  EXPECT_NEAR(p[0], 0.4900000001, 1e-7);
  EXPECT_NEAR(p[1], 0.4936610353472075, 1e-6);
  EXPECT_NEAR(p[2], 0.4950279419673822, 1e-6);
  // No optimizer block means Adam with defaults.
  auto q = RunSteps(TrainingDef(), 0.5f, {1.f, -2.f, 0.5f}, 0.01f);
  EXPECT_EQ(p, q);
}

TEST(OptimizerTest, AdamCustomHyperparameters) {
  TrainingDef def = Adam();
  def.mutable_adam()->set_beta1(0.5f);
  def.mutable_adam()->set_beta2(0.75f);
  def.mutable_adam()->set_epsilon(0.1f);
  // First step: mhat = g, vhat = g^2, so p -= lr * g / (|g| + eps).
  auto p = RunSteps(def, 0.f, {2.f}, 1.f);
  EXPECT_NEAR(p[0], -2.f / 2.1f, 1e-6);
}

TEST(OptimizerTest, DecoupledWeightDecay) {
  TrainingDef sgd = Sgd();
  sgd.set_weight_decay(0.5f);
  EXPECT_FLOAT_EQ(RunSteps(sgd, 2.f, {0.f}, 0.1f)[0], 1.9f);  // 2 - 0.1 * 0.5 * 2
  TrainingDef adam = Adam();
  adam.set_weight_decay(0.1f);
  EXPECT_NEAR(RunSteps(adam, 2.f, {1.f}, 0.1f)[0], 1.880000001, 1e-6);
}

TEST(OptimizerTest, StateTensorsAndRestore) {
  auto opt = Optimizer::Create(Adam(), {{2}, {1, 3}});
  ASSERT_TRUE(opt.ok());
  Optimizer& o = **opt;
  ASSERT_EQ(o.slot_names(), (std::vector<std::string>{"m", "v"}));
  std::vector<Tensor> state = o.StateTensors();
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[0].shape(), (Shape{2}));     // param 0, m
  EXPECT_EQ(state[1].shape(), (Shape{2}));     // param 0, v
  EXPECT_EQ(state[2].shape(), (Shape{1, 3}));  // param 1, m
  std::vector<float> p0 = {1.f, 1.f}, p1 = {0.f, 0.f, 0.f}, g0 = {1.f, -1.f};
  Tensor pt0(FLOAT32, {2}, p0.data()), pt1(FLOAT32, {1, 3}, p1.data());
  Tensor gt0(FLOAT32, {2}, g0.data());
  // A null gradient leaves parameter 1 and its state untouched.
  ASSERT_TRUE(o.Apply({pt0, pt1}, {gt0, Tensor()}, 0.1f).ok());
  EXPECT_FLOAT_EQ(state[0].f32()[0], 0.1f);
  EXPECT_FLOAT_EQ(state[0].f32()[1], -0.1f);
  EXPECT_NEAR(state[1].f32()[0], 0.001f, 1e-7);  // (1 - 0.999f) * 1
  EXPECT_EQ(p1, (std::vector<float>{0.f, 0.f, 0.f}));
  EXPECT_EQ(state[2].f32()[0], 0.f);

  // Restoring state and step reproduces the update a fresh run would make.
  auto fresh = Optimizer::Create(Adam(), {{2}, {1, 3}});
  ASSERT_TRUE(fresh.ok());
  std::vector<Tensor> fresh_state = (*fresh)->StateTensors();
  for (size_t i = 0; i < state.size(); ++i) {
    std::memcpy(fresh_state[i].data(), state[i].data(), state[i].num_bytes());
  }
  (*fresh)->set_step(o.step());
  std::vector<float> q0 = p0;
  Tensor qt0(FLOAT32, {2}, q0.data());
  ASSERT_TRUE(o.Apply({pt0, pt1}, {gt0, Tensor()}, 0.1f).ok());
  ASSERT_TRUE((*fresh)->Apply({qt0, pt1}, {gt0, Tensor()}, 0.1f).ok());
  EXPECT_EQ(p0, q0);
  EXPECT_EQ(o.step(), 2);
}

TEST(OptimizerTest, ApplyChecksShapes) {
  auto opt = Optimizer::Create(Sgd(), {{2}});
  ASSERT_TRUE(opt.ok());
  std::vector<float> p(3), g(3);
  Tensor pt(FLOAT32, {3}, p.data()), gt(FLOAT32, {3}, g.data());
  absl::Status s = (*opt)->Apply({pt}, {gt}, 0.1f);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "optimizer: parameter 0 has shape [3] and gradient shape [3]; expected [2]");
  EXPECT_EQ((*opt)->Apply({}, {}, 0.1f).message(),
            "optimizer: expected 1 parameters and gradients; got 0 and 0");
}

TEST(OptimizerTest, ClipByGlobalNorm) {
  std::vector<float> a = {3.f, 4.f}, b = {12.f};
  Tensor ta(FLOAT32, {2}, a.data()), tb(FLOAT32, {1}, b.data());
  EXPECT_FLOAT_EQ(ClipByGlobalNorm({ta, tb, Tensor()}, 0.f), 13.f);  // disabled
  EXPECT_EQ(a, (std::vector<float>{3.f, 4.f}));
  EXPECT_FLOAT_EQ(ClipByGlobalNorm({ta, tb}, 100.f), 13.f);  // below the limit
  EXPECT_EQ(b[0], 12.f);
  EXPECT_FLOAT_EQ(ClipByGlobalNorm({ta, tb, Tensor()}, 6.5f), 13.f);
  EXPECT_FLOAT_EQ(a[0], 1.5f);
  EXPECT_FLOAT_EQ(a[1], 2.f);
  EXPECT_FLOAT_EQ(b[0], 6.f);
  EXPECT_NEAR(ClipByGlobalNorm({ta, tb}, 1.f), 6.5f, 1e-6);
  b[0] = std::numeric_limits<float>::quiet_NaN();
  a = {1.f, 1.f};
  EXPECT_TRUE(std::isnan(ClipByGlobalNorm({ta, tb}, 1.f)));
  EXPECT_EQ(a[0], 1.f);  // untouched
}

LearningRateDef Schedule(const char* kind, float base = 0.1f) {
  LearningRateDef def;
  def.set_schedule(kind);
  def.set_base(base);
  return def;
}

TEST(LearningRateTest, ConstantAndWarmup) {
  LearningRateDef def = Schedule("constant");
  EXPECT_FLOAT_EQ(LearningRate(def, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(def, 99, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(Schedule(""), 5, 100), 0.1f);
  def.set_warmup_steps(4);
  EXPECT_FLOAT_EQ(LearningRate(def, 0, 100), 0.025f);
  EXPECT_FLOAT_EQ(LearningRate(def, 1, 100), 0.05f);
  EXPECT_FLOAT_EQ(LearningRate(def, 3, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(def, 4, 100), 0.1f);
}

TEST(LearningRateTest, DefaultBase) {
  EXPECT_FLOAT_EQ(LearningRate(Schedule("constant", 0.f), 0, 10), kDefaultAdamLearningRate);
  EXPECT_FLOAT_EQ(LearningRate(Schedule("constant", 0.f), 0, 10, 0.5f), 0.5f);
  auto sgd = Optimizer::Create(Sgd(), {});
  ASSERT_TRUE(sgd.ok());
  EXPECT_FLOAT_EQ((*sgd)->LearningRate(10), kDefaultSgdLearningRate);
  auto adam = Optimizer::Create(Adam(), {});
  ASSERT_TRUE(adam.ok());
  EXPECT_FLOAT_EQ((*adam)->LearningRate(10), kDefaultAdamLearningRate);
}

TEST(LearningRateTest, ExponentialAndStep) {
  LearningRateDef e = Schedule("exponential");
  e.set_rate(0.5f);
  e.set_decay_steps(10);
  EXPECT_FLOAT_EQ(LearningRate(e, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(e, 10, 100), 0.05f);
  EXPECT_NEAR(LearningRate(e, 5, 100), 0.1 * std::sqrt(0.5), 1e-7);
  LearningRateDef s = Schedule("step");
  s.set_rate(0.5f);
  s.set_decay_steps(10);
  EXPECT_FLOAT_EQ(LearningRate(s, 9, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(s, 10, 100), 0.05f);
  EXPECT_FLOAT_EQ(LearningRate(s, 25, 100), 0.025f);
  // Decay starts after warmup.
  s.set_warmup_steps(5);
  EXPECT_FLOAT_EQ(LearningRate(s, 14, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(s, 15, 100), 0.05f);
}

TEST(LearningRateTest, Cosine) {
  LearningRateDef c = Schedule("cosine");
  c.set_min(0.01f);
  EXPECT_FLOAT_EQ(LearningRate(c, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(c, 50, 100), 0.055f);
  EXPECT_FLOAT_EQ(LearningRate(c, 100, 100), 0.01f);
  EXPECT_FLOAT_EQ(LearningRate(c, 150, 100), 0.01f);
  c.set_warmup_steps(10);
  EXPECT_FLOAT_EQ(LearningRate(c, 4, 110), 0.05f);
  EXPECT_FLOAT_EQ(LearningRate(c, 60, 110), 0.055f);
}

TEST(ValidateTrainingDefTest, RejectsBadFields) {
  EXPECT_TRUE(ValidateTrainingDef(TrainingDef()).ok());
  TrainingDef def;
  def.mutable_learning_rate()->set_schedule("linear");
  EXPECT_EQ(ValidateTrainingDef(def).message(),
            "training.learning_rate.schedule: unknown schedule 'linear'; expected one of "
            "constant, exponential, step, cosine");
  EXPECT_EQ(Optimizer::Create(def, {}).status().code(), absl::StatusCode::kInvalidArgument);
  def.mutable_learning_rate()->set_schedule("step");
  EXPECT_EQ(ValidateTrainingDef(def).message(),
            "training.learning_rate.decay_steps: must be > 0 for schedule 'step'; got 0");
  def.mutable_learning_rate()->set_decay_steps(5);
  EXPECT_EQ(ValidateTrainingDef(def).message(),
            "training.learning_rate.rate: must be > 0 for schedule 'step'; got 0");
  def.mutable_learning_rate()->set_rate(0.5f);
  EXPECT_TRUE(ValidateTrainingDef(def).ok());
  def.set_clip_global_norm(-1.f);
  EXPECT_EQ(ValidateTrainingDef(def).message(), "training.clip_global_norm: must be >= 0; got -1");

  EXPECT_EQ(ValidateTrainingDef(Sgd(0.f, true)).message(),
            "training.sgd.nesterov: needs momentum > 0");
  EXPECT_EQ(ValidateTrainingDef(Sgd(1.f)).message(),
            "training.sgd.momentum: must be in [0, 1); got 1");
  TrainingDef adam = Adam();
  adam.mutable_adam()->set_beta2(1.f);
  EXPECT_EQ(ValidateTrainingDef(adam).message(), "training.adam.beta2: must be in [0, 1); got 1");
}

}  // namespace
}  // namespace rnnflow
