#include "rnnflow/graph/training_summary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnflow {
namespace {

// "" for a value the model sets, "default" for one it leaves unset, joined
// with what the value means.
std::string Note(bool is_default, const std::string& meaning = "") {
  if (!is_default) return meaning;
  return meaning.empty() ? "default" : absl::StrCat(meaning, "; default");
}

void AddOptimizer(const TrainingDef& def, std::vector<TrainingField>* out) {
  const TrainingDefaults& d = kTrainingDefaults;
  if (def.has_sgd()) {
    const SgdDef& sgd = def.sgd();
    out->push_back({"optimizer", "sgd", ""});
    out->push_back({"sgd.momentum", absl::StrCat(sgd.momentum()),
                    sgd.momentum() > 0 ? "" : "plain SGD, no momentum"});
    out->push_back({"sgd.nesterov", sgd.nesterov() ? "true" : "false", ""});
    return;
  }
  const AdamDef& adam = def.adam();
  out->push_back({"optimizer", "adam", def.has_adam() ? "" : "default: no sgd or adam block"});
  out->push_back({"adam.beta1", absl::StrCat(adam.beta1() > 0 ? adam.beta1() : d.adam_beta1),
                  Note(adam.beta1() == 0)});
  out->push_back({"adam.beta2", absl::StrCat(adam.beta2() > 0 ? adam.beta2() : d.adam_beta2),
                  Note(adam.beta2() == 0)});
  out->push_back({"adam.epsilon",
                  absl::StrCat(adam.epsilon() > 0 ? adam.epsilon() : d.adam_epsilon),
                  Note(adam.epsilon() == 0)});
}

void AddLearningRate(const TrainingDef& def, std::vector<TrainingField>* out) {
  const LearningRateDef& lr = def.learning_rate();
  const bool sgd = def.has_sgd();
  const float default_base =
      sgd ? kTrainingDefaults.sgd_learning_rate : kTrainingDefaults.adam_learning_rate;
  out->push_back({"learning_rate.base", absl::StrCat(lr.base() > 0 ? lr.base() : default_base),
                  lr.base() > 0 ? ""
                  : sgd         ? "default for sgd"
                                : "default for adam"});
  const std::string schedule = lr.schedule().empty() ? "constant" : lr.schedule();
  std::string meaning;
  if (schedule == "constant") meaning = "base at every step";
  if (schedule == "exponential") meaning = "base x rate^(s / decay_steps), s = steps after warmup";
  if (schedule == "step") meaning = "base x rate every decay_steps steps after warmup";
  if (schedule == "cosine") meaning = "from base down to min over the steps after warmup";
  out->push_back({"learning_rate.schedule", schedule, Note(lr.schedule().empty(), meaning)});
  out->push_back(
      {"learning_rate.warmup_steps", absl::StrCat(lr.warmup_steps()),
       lr.warmup_steps() > 0 ? "linear ramp up to base over these first steps" : "no warmup"});
  const std::string unused = absl::StrCat("not used by schedule ", schedule);
  const bool decays = schedule == "exponential" || schedule == "step";
  if (decays || lr.decay_steps() != 0) {
    out->push_back(
        {"learning_rate.decay_steps", absl::StrCat(lr.decay_steps()), decays ? "" : unused});
  }
  if (decays || lr.rate() != 0) {
    out->push_back({"learning_rate.rate", absl::StrCat(lr.rate()), decays ? "" : unused});
  }
  if (schedule == "cosine" || lr.min() != 0) {
    out->push_back({"learning_rate.min", absl::StrCat(lr.min()),
                    schedule == "cosine" ? Note(lr.min() == 0) : unused});
  }
}

}  // namespace

std::vector<TrainingField> DescribeTraining(const TrainingDef& def) {
  const TrainingDefaults& d = kTrainingDefaults;
  std::vector<TrainingField> out;
  AddOptimizer(def, &out);
  AddLearningRate(def, &out);
  out.push_back({"clip_global_norm", absl::StrCat(def.clip_global_norm()),
                 def.clip_global_norm() > 0
                     ? "gradients scaled down to this global L2 norm when above it"
                     : "no clipping"});
  out.push_back(
      {"weight_decay", absl::StrCat(def.weight_decay()),
       def.weight_decay() > 0 ? "decoupled: p -= learning rate x weight_decay x p" : "none"});
  const bool windowed = def.window() > 0;
  const int64_t T = def.truncation_steps() > 0 ? def.truncation_steps() : d.truncation_steps;
  out.push_back({"truncation_steps", absl::StrCat(T),
                 windowed ? Note(def.truncation_steps() == 0, "T; not used: window sets T")
                          : Note(def.truncation_steps() == 0, "T: steps per chunk")});
  out.push_back(
      {"streams_per_worker",
       absl::StrCat(def.streams_per_worker() > 0 ? def.streams_per_worker() : d.streams_per_worker),
       Note(def.streams_per_worker() == 0, "N: streams per worker")});
  out.push_back({"steps", absl::StrCat(def.steps() > 0 ? def.steps() : d.steps),
                 Note(def.steps() == 0, "optimizer steps in all; a resumed run continues to it")});
  out.push_back({"window", absl::StrCat(def.window()),
                 windowed ? absl::StrCat("series windows of ", def.window(),
                                         " rows, each from a zero state; T = ", def.window())
                          : "stateful: the state is carried from chunk to chunk"});
  out.push_back({"seed", absl::StrCat(def.seed() != 0 ? def.seed() : d.seed),
                 Note(def.seed() == 0, "initial parameters, data order, dropout masks")});
  return out;
}

std::string FormatTraining(const std::vector<TrainingField>& fields) {
  size_t name_width = 0, value_width = 0;
  for (const TrainingField& f : fields) {
    name_width = std::max(name_width, f.name.size());
    value_width = std::max(value_width, f.value.size());
  }
  std::string out;
  for (const TrainingField& f : fields) {
    absl::StrAppendFormat(&out, "  %-*s  ", name_width, f.name);
    if (f.note.empty()) {
      absl::StrAppend(&out, f.value, "\n");
    } else {
      absl::StrAppendFormat(&out, "%-*s  (%s)\n", value_width, f.value, f.note);
    }
  }
  return out;
}

}  // namespace rnnflow
