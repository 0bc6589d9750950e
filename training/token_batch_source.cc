#include "rnnflow/training/token_batch_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

// Every token id (< vocab) must fit the Embedding tables reading `tokens`.
absl::Status CheckVocabulary(const Graph& graph, int tokens, int64_t vocab,
                             const std::string& data) {
  for (const NodeInfo& node : graph.nodes()) {
    if (node.def->op() != "Embedding" || node.inputs.empty()) continue;
    if (node.inputs[0] != tokens) continue;
    const int64_t rows = node.def->attr().at("vocab").i();
    if (rows < vocab) {
      return absl::InvalidArgumentError(absl::StrCat(
          data, ": the corpus has a vocabulary of ", vocab, " tokens but node '", node.def->name(),
          "' (Embedding) has vocab ", rows, "; raise its vocab attribute"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenBatchSource::OpenStreams(
    const BatchSourceOptions& options, const std::string& split) {
  RF_ASSIGN_OR_RETURN(
      std::unique_ptr<TokenStreams> streams,
      OpenTrainingStreams(options.data, split, options.streams * options.ranks, options.steps));
  RF_RETURN_IF_ERROR(streams->SelectColumns(options.rank * options.streams, options.streams));
  return streams;
}

absl::StatusOr<std::unique_ptr<TokenBatchSource>> TokenBatchSource::Create(
    const Session& session, const BatchSourceOptions& options, const std::string& split,
    std::unique_ptr<TokenStreams> streams) {
  const Graph& graph = session.graph();
  std::unique_ptr<TokenBatchSource> s(new TokenBatchSource());
  s->streams_ = std::move(streams);
  s->tokens_ = InputFed(graph, TOKENS);
  s->targets_ = InputFed(graph, NEXT_TOKENS);
  s->resets_ = InputFed(graph, RESETS);
  s->N_ = options.streams;
  s->ranks_ = options.ranks;
  RF_RETURN_IF_ERROR(CheckVocabulary(graph, s->tokens_, s->streams_->vocab_size(), options.data));
  if (s->resets_ >= 0) {
    auto docs = ReadSplitDocuments(options.data, split);
    if (!docs.ok()) {
      return absl::Status(
          docs.status().code(),
          absl::StrCat("graph input '", graph.tensor(s->resets_).name,
                       "' (feed: RESETS) needs a corpus prepared as documents, one per file "
                       "(PrepareTextDocuments, dataset/documents.h); ",
                       docs.status().message()));
    }
    s->docs_ = *std::move(docs);
  }
  return s;
}

BatchFeed TokenBatchSource::FeedNext(Session& session) {
  Tensor tokens = session.value(tokens_);
  Tensor targets = session.value(targets_);
  BatchFeed feed;
  feed.zero_states = streams_->Next(absl::MakeSpan(tokens.i32(), tokens.num_elements()),
                                    absl::MakeSpan(targets.i32(), targets.num_elements()));
  if (docs_) {  // the chunk just served starts at position() - steps()
    Tensor resets = session.value(resets_);
    docs_->Fill(streams_->stream_length(), streams_->first_column(),
                streams_->position() - streams_->steps(),
                absl::MakeSpan(resets.f32(), resets.num_elements()), streams_->steps(), N_);
  }
  return feed;
}

absl::Status TokenBatchSource::Seek(int64_t position) {
  if (position < 0 || position > streams_->stream_length()) {
    return absl::InvalidArgumentError(absl::StrCat("position ", position,
                                                   " is outside the streams of ",
                                                   streams_->stream_length(), " tokens"));
  }
  streams_->set_position(position);
  return absl::OkStatus();
}

int64_t TokenBatchSource::PassBatches(int64_t max_batches) const {
  const int64_t all = streams_->chunks_per_epoch();
  return max_batches > 0 ? std::min(max_batches, all) : all;
}

std::string TokenBatchSource::DescribeBatch() const {
  return DescribeStreamBatch(streams_->steps(), N_, ranks_, unit());
}

}  // namespace rnnflow
