// The training block as `validate` and `inspect` print it
// (graph/training_summary.h), and its defaults against what the optimizers
// and the trainer actually apply to an unset field.
#include "rnnflow/graph/training_summary.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/optimizer.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/tiny_lm.h"

namespace rnnflow {
namespace {

using testing::HasSubstr;

TrainingDef Parse(const std::string& training_text) {
  auto loaded = ParseModelText(absl::StrCat("training { ", training_text, " }"), "t.pbtxt");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? loaded->model.training() : TrainingDef();
}

// The field called `name`; a field with that name and "(absent)" as value
// when there is none.
TrainingField Field(const std::vector<TrainingField>& fields, const std::string& name) {
  for (const TrainingField& f : fields) {
    if (f.name == name) return f;
  }
  return {name, "(absent)", ""};
}

std::vector<std::string> Names(const std::vector<TrainingField>& fields) {
  std::vector<std::string> names;
  for (const TrainingField& f : fields) names.push_back(f.name);
  return names;
}

TEST(TrainingSummaryTest, AnEmptyBlockShowsEveryDefault) {
  const std::vector<TrainingField> f = DescribeTraining(TrainingDef());
  EXPECT_THAT(Names(f), testing::ElementsAre("optimizer", "adam.beta1", "adam.beta2",
                                             "adam.epsilon", "learning_rate.base",
                                             "learning_rate.schedule", "learning_rate.warmup_steps",
                                             "clip_global_norm", "weight_decay", "truncation_steps",
                                             "streams_per_worker", "steps", "window", "seed"));
  EXPECT_EQ(Field(f, "optimizer").value, "adam");
  EXPECT_EQ(Field(f, "optimizer").note, "default: no sgd or adam block");
  EXPECT_EQ(Field(f, "adam.beta2").value, "0.999");
  EXPECT_EQ(Field(f, "adam.epsilon").value, "1e-08");
  EXPECT_EQ(Field(f, "learning_rate.base").value, "0.001");
  EXPECT_EQ(Field(f, "learning_rate.base").note, "default for adam");
  EXPECT_EQ(Field(f, "learning_rate.schedule").value, "constant");
  EXPECT_EQ(Field(f, "truncation_steps").value, "32");
  EXPECT_EQ(Field(f, "truncation_steps").note, "T: steps per chunk; default");
  EXPECT_EQ(Field(f, "streams_per_worker").value, "16");
  EXPECT_EQ(Field(f, "steps").value, "100");
  EXPECT_EQ(Field(f, "seed").value, "1");
  EXPECT_EQ(Field(f, "clip_global_norm").note, "no clipping");
}

TEST(TrainingSummaryTest, SetFieldsAreShownAsSetWithTheirMeaning) {
  const std::vector<TrainingField> f = DescribeTraining(
      Parse("sgd { momentum: 0.9 nesterov: true } learning_rate { base: 0.5 schedule: \"step\" "
            "decay_steps: 1000 rate: 0.5 warmup_steps: 10 } clip_global_norm: 5 "
            "weight_decay: 0.01 truncation_steps: 64 streams_per_worker: 8 steps: 300 seed: 7"));
  EXPECT_THAT(Names(f), testing::ElementsAre("optimizer", "sgd.momentum", "sgd.nesterov",
                                             "learning_rate.base", "learning_rate.schedule",
                                             "learning_rate.warmup_steps",
                                             "learning_rate.decay_steps", "learning_rate.rate",
                                             "clip_global_norm", "weight_decay", "truncation_steps",
                                             "streams_per_worker", "steps", "window", "seed"));
  EXPECT_EQ(Field(f, "optimizer").value, "sgd");
  EXPECT_EQ(Field(f, "sgd.momentum").value, "0.9");
  EXPECT_EQ(Field(f, "sgd.nesterov").value, "true");
  EXPECT_EQ(Field(f, "learning_rate.base").value, "0.5");
  EXPECT_EQ(Field(f, "learning_rate.base").note, "");
  EXPECT_EQ(Field(f, "learning_rate.decay_steps").value, "1000");
  EXPECT_EQ(Field(f, "learning_rate.rate").value, "0.5");
  EXPECT_EQ(Field(f, "learning_rate.warmup_steps").value, "10");
  EXPECT_EQ(Field(f, "weight_decay").value, "0.01");
  EXPECT_EQ(Field(f, "truncation_steps").note, "T: steps per chunk");
  EXPECT_EQ(Field(f, "seed").value, "7");
  // SGD's own default base rate when none is given.
  EXPECT_EQ(Field(DescribeTraining(Parse("sgd {}")), "learning_rate.base").value, "0.1");
}

TEST(TrainingSummaryTest, FieldsTheScheduleDoesNotReadAreNotedUnused) {
  std::vector<TrainingField> f =
      DescribeTraining(Parse("learning_rate { base: 0.01 rate: 0.5 min: 0.001 }"));
  EXPECT_EQ(Field(f, "learning_rate.rate").note, "not used by schedule constant");
  EXPECT_EQ(Field(f, "learning_rate.min").note, "not used by schedule constant");
  EXPECT_EQ(Field(f, "learning_rate.decay_steps").value, "(absent)");
  f = DescribeTraining(Parse("learning_rate { schedule: \"cosine\" }"));
  EXPECT_EQ(Field(f, "learning_rate.min").value, "0");
  EXPECT_EQ(Field(f, "learning_rate.min").note, "default");
}

TEST(TrainingSummaryTest, AWindowReplacesT) {
  const std::vector<TrainingField> f = DescribeTraining(Parse("truncation_steps: 64 window: 24"));
  EXPECT_EQ(Field(f, "truncation_steps").note, "T; not used: window sets T");
  EXPECT_THAT(Field(f, "window").note, HasSubstr("T = 24"));
}

TEST(TrainingSummaryTest, FormatAlignsNamesAndValues) {
  const std::string text = FormatTraining(
      {{"optimizer", "adam", ""}, {"learning_rate.base", "0.002", ""}, {"seed", "1", "default"}});
  EXPECT_EQ(text,
            "  optimizer           adam\n"
            "  learning_rate.base  0.002\n"
            "  seed                1      (default)\n");
}

// The defaults the summary shows are those the optimizers apply...
TEST(TrainingSummaryTest, DefaultsAreTheOptimizersDefaults) {
  EXPECT_EQ(kTrainingDefaults.adam_learning_rate, kDefaultAdamLearningRate);
  EXPECT_EQ(kTrainingDefaults.sgd_learning_rate, kDefaultSgdLearningRate);
  // Adam with unset betas and epsilon updates exactly as with the defaults
  // written out (gradients of the order of epsilon, so each of the three
  // changes the update).
  TrainingDef unset = Parse("adam {}");
  TrainingDef written = Parse("adam {}");
  written.mutable_adam()->set_beta1(kTrainingDefaults.adam_beta1);
  written.mutable_adam()->set_beta2(kTrainingDefaults.adam_beta2);
  written.mutable_adam()->set_epsilon(kTrainingDefaults.adam_epsilon);
  std::vector<float> params;
  for (const TrainingDef& def : {unset, written}) {
    auto opt = Optimizer::Create(def, {{1}});
    ASSERT_TRUE(opt.ok()) << opt.status();
    float p = 1.f;
    for (float g : {1e-8f, 3e-8f, -2e-8f, 5e-9f}) {
      Tensor pt(FLOAT32, {1}, &p), gt(FLOAT32, {1}, &g);
      ASSERT_TRUE((*opt)->Apply({pt}, {gt}, 0.01f).ok());
    }
    params.push_back(p);
  }
  EXPECT_EQ(params[0], params[1]);
}

// ...and those the trainer applies to T, N, steps and the seed.
TEST(TrainingSummaryTest, DefaultsAreTheTrainersDefaults) {
  std::string model = kTinyLmModel;
  const size_t at = model.find("training {");
  ASSERT_NE(at, std::string::npos);
  model = model.substr(0, at) + "training { adam {} }\n";
  auto loaded = ParseModelText(model, "tiny_lm.pbtxt");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto graph = Graph::Build(loaded->model, loaded->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  TrainerOptions options;
  options.data_path = WriteTinyLmCorpus("rnnflow_training_summary_corpus.txt");
  auto trainer = Trainer::Create(*graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_EQ((*trainer)->T(), kTrainingDefaults.truncation_steps);
  EXPECT_EQ((*trainer)->N(), kTrainingDefaults.streams_per_worker);
  EXPECT_EQ((*trainer)->total_steps(), kTrainingDefaults.steps);
  EXPECT_EQ((*trainer)->MakeCheckpoint().seed, kTrainingDefaults.seed);
}

}  // namespace
}  // namespace rnnflow
