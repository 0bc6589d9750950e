#include "rnnflow/training/window_batch_source.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<WindowBatchSource>> WindowBatchSource::Open(
    const Session& session, const BatchSourceOptions& options, const std::string& split,
    bool shuffle) {
  std::unique_ptr<WindowBatchSource> s(new WindowBatchSource());
  s->inputs_ = InputFed(session.graph(), SERIES);
  s->targets_ = InputFed(session.graph(), NEXT_SERIES);
  s->N_ = options.streams;
  s->ranks_ = options.ranks;
  SeriesWindowOptions wo;
  wo.window = options.window;
  wo.batch = options.streams;
  wo.ranks = options.ranks;
  wo.rank = options.rank;
  wo.seed = options.seed;
  wo.shuffle = shuffle;
  RF_ASSIGN_OR_RETURN(s->windows_, SeriesWindows::Open(options.data, split, wo));
  RF_RETURN_IF_ERROR(CheckSeriesInputs(session.graph(), s->windows_->features(), options.data));
  return s;
}

BatchFeed WindowBatchSource::FeedNext(Session& session) {
  Tensor inputs = session.value(inputs_);
  Tensor targets = session.value(targets_);
  windows_->Next(absl::MakeSpan(inputs.f32(), inputs.num_elements()),
                 absl::MakeSpan(targets.f32(), targets.num_elements()));
  BatchFeed feed;
  feed.zero_states = true;
  return feed;
}

absl::Status WindowBatchSource::Seek(int64_t position) {
  if (position < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("position ", position, " is not a number of batches of windows"));
  }
  windows_->set_position(position);
  return absl::OkStatus();
}

int64_t WindowBatchSource::PassBatches(int64_t max_batches) const {
  const int64_t all = windows_->num_windows() / windows_->global_batch();
  return max_batches > 0 ? std::min(max_batches, all) : all;
}

std::string WindowBatchSource::DescribeBatch() const {
  return absl::StrFormat(
      "N=%d windows of W=%d rows x %s per update (each from a zero state; %d windows per epoch, "
      "shuffled)",
      N_, windows_->window(), WorkerCount(ranks_), windows_->num_windows());
}

}  // namespace rnnflow
