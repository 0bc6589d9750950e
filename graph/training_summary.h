// A model's training block (TrainingDef) as a person reads it: each field
// with the value a run takes from it, what an unset field means filled in
// and marked, and what the value does. `rnnflow validate` and `inspect`
// print it; docs/model-format.md ("The training block") explains each field.
#ifndef RNNFLOW_GRAPH_TRAINING_SUMMARY_H_
#define RNNFLOW_GRAPH_TRAINING_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

// What an unset (0) field of the training block means. The trainer
// (training/trainer.cc) and the optimizers (training/optimizer.*) apply
// these values; tests/training_summary_test.cc checks that they do.
struct TrainingDefaults {
  int64_t truncation_steps = 32;    // T
  int64_t streams_per_worker = 16;  // N
  int64_t steps = 100;
  uint64_t seed = 1;
  float adam_learning_rate = 1e-3f;
  float sgd_learning_rate = 0.1f;
  float adam_beta1 = 0.9f;
  float adam_beta2 = 0.999f;
  float adam_epsilon = 1e-8f;
};
inline constexpr TrainingDefaults kTrainingDefaults;

// One line of the summary: `name` is the field as the model file spells it
// ("learning_rate.base", "adam.beta1"), `value` the value in effect and
// `note` what it means, e.g. {"truncation_steps", "32", "T; default"}.
struct TrainingField {
  std::string name;
  std::string value;
  std::string note;
};

// Every field of `def` that affects a run, in the order of the model format
// (optimizer, its fields, learning rate and schedule, clipping, weight
// decay, T, N, steps, window, seed). Fields a schedule does not read are
// listed only when set, noted as unused.
std::vector<TrainingField> DescribeTraining(const TrainingDef& def);

// The fields as aligned lines "  name  value  (note)", each ending in '\n'.
std::string FormatTraining(const std::vector<TrainingField>& fields);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_TRAINING_SUMMARY_H_
