#include "rnnflow/training/example_training.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<ExampleEvaluation> EvaluateExamples(Session& session, const ExampleFeeder& feeder,
                                                   const ExampleFile& file, int64_t max_batches) {
  ExampleEvaluation ev;
  ev.has_accuracy = feeder.has_accuracy();
  const int64_t n = feeder.N();
  int64_t batches = (file.size() + n - 1) / n;
  if (max_batches > 0) batches = std::min(batches, max_batches);
  double weighted = 0;
  int64_t count = 0;
  std::vector<int64_t> slots(n);
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t k = 0; k < n; ++k) slots[k] = b * n + k < file.size() ? b * n + k : -1;
    const FeedStats st = feeder.Fill(file, slots, session);
    session.ResetStates();
    RF_RETURN_IF_ERROR(session.Forward());
    weighted += static_cast<double>(session.loss()) * st.loss_count;
    count += st.loss_count;
    ev.examples += st.examples;
    ev.truncated += st.truncated;
    ev.target_truncated += st.target_truncated;
    if (ev.has_accuracy) {
      const Score s = feeder.Accuracy(session);
      ev.score.correct += s.correct;
      ev.score.total += s.total;
    }
  }
  ev.batches = batches;
  ev.loss = count > 0 ? weighted / count : 0.0;
  return ev;
}

absl::StatusOr<std::unique_ptr<ExampleTraining>> ExampleTraining::Create(
    const Session& session, const ExampleTrainingOptions& options) {
  std::unique_ptr<ExampleTraining> t(new ExampleTraining());
  t->options_ = options;
  RF_ASSIGN_OR_RETURN(t->train_, ExampleFile::Open(options.data + "/train.ex"));
  if (t->train_->size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(t->train_->path(), ": the train split has no examples"));
  }
  if (options.validate) {
    auto valid = ExampleFile::Open(options.data + "/valid.ex");
    if (valid.ok() && (*valid)->size() > 0) t->valid_ = *std::move(valid);
  }
  RF_ASSIGN_OR_RETURN(t->feeder_, ExampleFeeder::Create(session, t->train_->info(), options.data));
  std::vector<int64_t> lengths(t->train_->size());
  for (int64_t i = 0; i < t->train_->size(); ++i) lengths[i] = t->train_->length(i);
  ExampleBatchOptions bo;
  bo.batch = t->feeder_->N();
  bo.ranks = options.ranks;
  bo.rank = options.rank;
  bo.seed = options.seed;
  bo.bucket_window = options.bucket_window;
  RF_ASSIGN_OR_RETURN(ExampleBatches batches, ExampleBatches::Create(std::move(lengths), bo));
  t->batches_.emplace(std::move(batches));
  return t;
}

FeedStats ExampleTraining::FeedNext(Session& session) {
  const std::vector<int64_t> global = batches_->GlobalBatch(position_);
  const int64_t n = feeder_->N();
  const absl::Span<const int64_t> mine(global.data() + options_.rank * n, n);
  const FeedStats st = feeder_->Fill(*train_, mine, session);
  if (options_.ranks > 1) {
    const int64_t total = feeder_->LossCount(*train_, global);
    session.set_loss_gradient(total > 0 ? static_cast<float>(st.loss_count) * options_.ranks /
                                              static_cast<float>(total)
                                        : 0.f);
  }
  session.ResetStates();
  ++position_;
  return st;
}

absl::StatusOr<ExampleEvaluation> ExampleTraining::Validate(Session& session,
                                                            int64_t max_batches) const {
  if (valid_ == nullptr) return absl::FailedPreconditionError("no validation split");
  return EvaluateExamples(session, *feeder_, *valid_, max_batches);
}

std::string ExampleTraining::Describe() const {
  const int64_t S = feeder_->source_steps(), T = feeder_->target_steps();
  const bool pairs = train_->info().has_targets;
  int64_t longer = 0, max_len = 0, longer_targets = 0, max_target = 0;
  for (int64_t i = 0; i < train_->size(); ++i) {
    longer += train_->length(i) > S;
    max_len = std::max(max_len, train_->length(i));
    if (!pairs) continue;
    const int64_t m = static_cast<int64_t>(train_->targets(i).size());
    longer_targets += m + 1 > T;
    max_target = std::max(max_target, m);
  }
  std::string s = absl::StrFormat(
      "examples: %d train%s, %d batches of %d per epoch, longest %d tokens", train_->size(),
      valid_ ? absl::StrCat(", ", valid_->size(), " valid") : std::string(),
      batches_->batches_per_epoch(), batches_->global_batch(), max_len);
  if (pairs) absl::StrAppendFormat(&s, ", longest target %d (+ end: T=%d)", max_target, T);
  if (longer > 0) {
    absl::StrAppendFormat(&s,
                          "; %d (%.1f%%) longer than %d source steps keep their first %d tokens",
                          longer, 100.0 * longer / train_->size(), S, S);
  }
  if (longer_targets > 0) {
    absl::StrAppendFormat(&s,
                          "; %d (%.1f%%) targets + end longer than T=%d keep their first %d steps",
                          longer_targets, 100.0 * longer_targets / train_->size(), T, T);
  }
  return s;
}

}  // namespace rnnflow
