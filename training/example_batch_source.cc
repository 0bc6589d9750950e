#include "rnnflow/training/example_batch_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<ExampleBatchSource>> ExampleBatchSource::Create(
    const Session& session, std::unique_ptr<ExampleFile> file, const BatchSourceOptions& options,
    bool training_order) {
  std::unique_ptr<ExampleBatchSource> s(new ExampleBatchSource());
  if (training_order && file->size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file->path(), ": the train split has no examples"));
  }
  RF_ASSIGN_OR_RETURN(s->owned_feeder_, ExampleFeeder::Create(session, file->info(), options.data));
  s->owned_file_ = std::move(file);
  s->file_ = s->owned_file_.get();
  s->feeder_ = s->owned_feeder_.get();
  s->steps_ = options.steps;
  if (training_order) {
    s->rank_ = options.rank;
    s->ranks_ = options.ranks;
    std::vector<int64_t> lengths(s->file_->size());
    for (int64_t i = 0; i < s->file_->size(); ++i) lengths[i] = s->file_->length(i);
    ExampleBatchOptions bo;
    bo.batch = s->feeder_->N();
    bo.ranks = options.ranks;
    bo.rank = options.rank;
    bo.seed = options.seed;
    bo.bucket_window = options.bucket_window;
    RF_ASSIGN_OR_RETURN(ExampleBatches batches, ExampleBatches::Create(std::move(lengths), bo));
    s->batches_.emplace(std::move(batches));
  }
  return s;
}

ExampleBatchSource::ExampleBatchSource(const ExampleFeeder& feeder, const ExampleFile& file)
    : file_(&file), feeder_(&feeder), steps_(feeder.target_steps()) {}

BatchFeed ExampleBatchSource::FeedNext(Session& session) {
  const int64_t n = feeder_->N();
  FeedStats st;
  if (batches_) {
    const std::vector<int64_t> global = batches_->GlobalBatch(position_);
    const absl::Span<const int64_t> mine(global.data() + rank_ * n, n);
    st = feeder_->Fill(*file_, mine, session);
    if (ranks_ > 1) {
      const int64_t total = feeder_->LossCount(*file_, global);
      session.set_loss_gradient(
          total > 0 ? static_cast<float>(st.loss_count) * ranks_ / static_cast<float>(total) : 0.f);
    }
  } else {
    slots_.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = position_ * n + k;
      slots_[k] = i < file_->size() ? i : -1;
    }
    st = feeder_->Fill(*file_, slots_, session);
  }
  ++position_;
  BatchFeed feed;
  feed.zero_states = true;
  feed.weight = st.loss_count;
  feed.examples = st.examples;
  feed.truncated = st.truncated;
  feed.target_truncated = st.target_truncated;
  return feed;
}

absl::Status ExampleBatchSource::Seek(int64_t position) {
  if (position < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("position ", position, " is not a number of batches of examples"));
  }
  position_ = position;
  return absl::OkStatus();
}

int64_t ExampleBatchSource::PassBatches(int64_t) const {
  return (file_->size() + feeder_->N() - 1) / feeder_->N();
}

std::string ExampleBatchSource::DescribeBatch() const {
  return absl::StrFormat("N=%d examples x %s per update (T=%d steps at most)", feeder_->N(),
                         WorkerCount(ranks_), steps_);
}

std::string ExampleBatchSource::DescribeData(const BatchSource* valid) const {
  const int64_t S = feeder_->source_steps(), T = feeder_->target_steps();
  const ExampleFile& file = *file_;
  const bool pairs = file.info().has_targets;
  int64_t longer = 0, max_len = 0, longer_targets = 0, max_target = 0;
  for (int64_t i = 0; i < file.size(); ++i) {
    longer += file.length(i) > S;
    max_len = std::max(max_len, file.length(i));
    if (!pairs) continue;
    const int64_t m = static_cast<int64_t>(file.targets(i).size());
    longer_targets += m + 1 > T;
    max_target = std::max(max_target, m);
  }
  std::string s = absl::StrFormat(
      "examples: %d train%s, %d batches of %d per epoch, longest %d tokens", file.size(),
      valid != nullptr ? absl::StrCat(", ", valid->length(), " valid") : std::string(),
      batches_per_epoch(), batches_ ? batches_->global_batch() : feeder_->N(), max_len);
  if (pairs) absl::StrAppendFormat(&s, ", longest target %d (+ end: T=%d)", max_target, T);
  if (longer > 0) {
    absl::StrAppendFormat(&s,
                          "; %d (%.1f%%) longer than %d source steps keep their first %d tokens",
                          longer, 100.0 * longer / file.size(), S, S);
  }
  if (longer_targets > 0) {
    absl::StrAppendFormat(&s,
                          "; %d (%.1f%%) targets + end longer than T=%d keep their first %d steps",
                          longer_targets, 100.0 * longer_targets / file.size(), T, T);
  }
  return s;
}

std::string ExampleBatchSource::LossNote(const Evaluation& ev) const {
  std::string s;
  if (ev.has_accuracy) {
    s = absl::StrFormat(", accuracy %.4f (%d/%d)", ev.score.accuracy(), ev.score.correct,
                        ev.score.total);
  }
  return absl::StrCat(s, absl::StrFormat(" over %d examples", ev.examples));
}

std::string ExampleBatchSource::MetricFields(const Evaluation& ev) const {
  std::string s;
  if (ev.has_accuracy) s = absl::StrFormat(", \"valid_accuracy\": %.9g", ev.score.accuracy());
  return absl::StrCat(s, absl::StrFormat(", \"valid_examples\": %d", ev.examples));
}

absl::StatusOr<Evaluation> EvaluateExamples(Session& session, const ExampleFeeder& feeder,
                                            const ExampleFile& file, int64_t max_batches) {
  ExampleBatchSource source(feeder, file);
  int64_t batches = source.PassBatches(0);
  if (max_batches > 0) batches = std::min(batches, max_batches);
  return Evaluate(session, source, batches);
}

}  // namespace rnnflow
