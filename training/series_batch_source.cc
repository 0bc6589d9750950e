#include "rnnflow/training/series_batch_source.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::Status CheckSeriesInputs(const Graph& graph, int64_t features, const std::string& data) {
  for (Feed feed : {SERIES, NEXT_SERIES}) {
    const TensorInfo& t = graph.tensor(InputFed(graph, feed));
    if (t.dtype != FLOAT32 || t.shape.size() != 3 || t.shape[2] != Dim::Known(features)) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph input '", t.name, "' is fed with the series of ", data,
                       " and must be FLOAT32 [T, N, ", features, "] (", features,
                       " prepared column", features == 1 ? "" : "s", "); got ",
                       DataType_Name(t.dtype), " ", ShapeToString(t.shape)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SeriesBatchSource>> SeriesBatchSource::Open(
    const Session& session, const BatchSourceOptions& options, const std::string& split) {
  std::unique_ptr<SeriesBatchSource> s(new SeriesBatchSource());
  s->inputs_ = InputFed(session.graph(), SERIES);
  s->targets_ = InputFed(session.graph(), NEXT_SERIES);
  s->N_ = options.streams;
  s->ranks_ = options.ranks;
  RF_ASSIGN_OR_RETURN(
      s->streams_,
      SeriesStreams::Open(options.data, split, options.streams * options.ranks, options.steps));
  RF_RETURN_IF_ERROR(s->streams_->SelectColumns(options.rank * options.streams, options.streams));
  RF_RETURN_IF_ERROR(CheckSeriesInputs(session.graph(), s->streams_->features(), options.data));
  return s;
}

BatchFeed SeriesBatchSource::FeedNext(Session& session) {
  Tensor inputs = session.value(inputs_);
  Tensor targets = session.value(targets_);
  BatchFeed feed;
  feed.zero_states = streams_->Next(absl::MakeSpan(inputs.f32(), inputs.num_elements()),
                                    absl::MakeSpan(targets.f32(), targets.num_elements()));
  return feed;
}

absl::Status SeriesBatchSource::Seek(int64_t position) {
  if (position < 0 || position > streams_->stream_length()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position ", position, " is outside the streams of ", streams_->stream_length(), " rows"));
  }
  streams_->set_position(position);
  return absl::OkStatus();
}

int64_t SeriesBatchSource::PassBatches(int64_t max_batches) const {
  const int64_t all = streams_->chunks_per_epoch();
  return max_batches > 0 ? std::min(max_batches, all) : all;
}

std::string SeriesBatchSource::DescribeBatch() const {
  return DescribeStreamBatch(streams_->steps(), N_, ranks_, unit());
}

}  // namespace rnnflow
