#include "rnnflow/training/batch_source_factory.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/training/example_batch_source.h"
#include "rnnflow/training/example_feed.h"
#include "rnnflow/training/series_batch_source.h"
#include "rnnflow/training/token_batch_source.h"
#include "rnnflow/training/window_batch_source.h"

namespace rnnflow {
namespace {

enum class DataKind { kTokens, kSeries, kWindows, kExamples };

// The kind of data the model's feeds ask for, with the checks that need no
// data: one kind only, and the token inputs' types.
absl::StatusOr<DataKind> KindOf(const Graph& graph, const BatchSourceOptions& options) {
  const int tokens = InputFed(graph, TOKENS), targets = InputFed(graph, NEXT_TOKENS);
  const int series = InputFed(graph, SERIES), next_series = InputFed(graph, NEXT_SERIES);
  const int resets = InputFed(graph, RESETS);
  if (resets >= 0) {
    const TensorInfo& t = graph.tensor(resets);
    if (t.dtype != FLOAT32 || t.shape.size() != 2 || series >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph input '", t.name,
                       "' is fed document resets and must be FLOAT32 [T, N] in a "
                       "model trained on text; got ",
                       DataType_Name(t.dtype), " ", ShapeToString(t.shape)));
    }
  }
  if (options.window > 0 && series < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a window of ", options.window,
                     " rows, set by training.window or TrainerOptions::window, applies to models "
                     "fed SERIES only"));
  }
  if (IsExampleModel(graph)) {
    if (tokens >= 0 || targets >= 0 || series >= 0 || next_series >= 0) {
      return absl::InvalidArgumentError(
          "a model fed EXAMPLE_* inputs cannot also take TOKENS, NEXT_TOKENS, SERIES or "
          "NEXT_SERIES");
    }
    return DataKind::kExamples;
  }
  if (series >= 0 || next_series >= 0) {
    if (series < 0 || next_series < 0 || tokens >= 0 || targets >= 0) {
      return absl::InvalidArgumentError(
          "training on a time series needs one graph input with `feed: SERIES` and one with "
          "`feed: NEXT_SERIES`, both FLOAT32 [T, N, F], and no token inputs");
    }
    return options.window > 0 ? DataKind::kWindows : DataKind::kSeries;
  }
  if (tokens < 0 || targets < 0) {
    return absl::InvalidArgumentError(
        "training on a text corpus needs one graph input with `feed: TOKENS` and one with "
        "`feed: NEXT_TOKENS`, both INT32 [T, N]");
  }
  for (int id : {tokens, targets}) {
    const TensorInfo& t = graph.tensor(id);
    if (t.dtype != INT32 || t.shape.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "graph input '", t.name, "' is fed with tokens and must be INT32 [T, N]; got ",
          DataType_Name(t.dtype), " ", ShapeToString(t.shape)));
    }
  }
  return DataKind::kTokens;
}

std::string ExamplePath(const BatchSourceOptions& options, const char* split) {
  return absl::StrCat(options.data, "/", split, ".ex");
}

absl::StatusOr<BatchSources> OpenTokens(const Session& session, const BatchSourceOptions& o) {
  BatchSources s;
  RF_ASSIGN_OR_RETURN(auto train_streams, TokenBatchSource::OpenStreams(o, "train"));
  RF_ASSIGN_OR_RETURN(auto train,
                      TokenBatchSource::Create(session, o, "train", std::move(train_streams)));
  // The next chunk is read while the step computes (hidden disk reads).
  train->EnablePrefetch();
  s.train = std::move(train);
  if (!o.validate) return s;
  auto valid_streams = TokenBatchSource::OpenStreams(o, "valid");
  if (valid_streams.ok()) {
    RF_ASSIGN_OR_RETURN(s.valid,
                        TokenBatchSource::Create(session, o, "valid", *std::move(valid_streams)));
  }
  return s;
}

absl::StatusOr<BatchSources> OpenSeries(const Session& session, const BatchSourceOptions& o) {
  BatchSources s;
  RF_ASSIGN_OR_RETURN(s.train, SeriesBatchSource::Open(session, o, "train"));
  if (o.validate) {
    auto valid = SeriesBatchSource::Open(session, o, "valid");
    if (valid.ok()) s.valid = *std::move(valid);
  }
  return s;
}

absl::StatusOr<BatchSources> OpenWindows(const Session& session, const BatchSourceOptions& o) {
  BatchSources s;
  RF_ASSIGN_OR_RETURN(s.train, WindowBatchSource::Open(session, o, "train", /*shuffle=*/true));
  if (o.validate) {
    // Validation scores whole global batches only; a valid split with
    // fewer windows than one global batch is not validated.
    auto valid = WindowBatchSource::Open(session, o, "valid", /*shuffle=*/false);
    if (valid.ok() && (*valid)->PassBatches(0) > 0) s.valid = *std::move(valid);
  }
  return s;
}

absl::StatusOr<BatchSources> OpenExamples(const Session& session, const BatchSourceOptions& o) {
  BatchSources s;
  RF_ASSIGN_OR_RETURN(auto train_file, ExampleFile::Open(ExamplePath(o, "train")));
  RF_ASSIGN_OR_RETURN(s.train, ExampleBatchSource::Create(session, std::move(train_file), o,
                                                          /*training_order=*/true));
  if (o.validate) {
    auto valid = ExampleFile::Open(ExamplePath(o, "valid"));
    if (valid.ok() && (*valid)->size() > 0) {
      RF_ASSIGN_OR_RETURN(s.valid, ExampleBatchSource::Create(session, *std::move(valid), o,
                                                              /*training_order=*/false));
    }
  }
  return s;
}

}  // namespace

absl::StatusOr<SymbolBindings> BatchBindings(const Graph& graph,
                                             const BatchSourceOptions& options) {
  RF_ASSIGN_OR_RETURN(const DataKind kind, KindOf(graph, options));
  if (kind != DataKind::kExamples)
    return SymbolBindings{{"T", options.steps}, {"N", options.streams}};
  int64_t longest = 0;
  if (SourceTimeSymbol(graph) != kDefaultTimeSymbol && options.source_steps <= 0) {
    for (const char* split : {"train", "valid"}) {
      auto file = ExampleFile::Open(ExamplePath(options, split));
      if (file.ok()) {
        longest = std::max(longest, LongestSource(**file));
      } else if (std::string(split) == "train") {
        return file.status();
      }
    }
  }
  RF_ASSIGN_OR_RETURN(SymbolBindings bindings,
                      ExampleTimeBindings(graph, options.steps, options.source_steps, longest));
  bindings["N"] = options.streams;
  return bindings;
}

absl::StatusOr<BatchSources> OpenBatchSources(const Session& session,
                                              const BatchSourceOptions& options) {
  RF_ASSIGN_OR_RETURN(const DataKind kind, KindOf(session.graph(), options));
  switch (kind) {
    case DataKind::kTokens:
      return OpenTokens(session, options);
    case DataKind::kSeries:
      return OpenSeries(session, options);
    case DataKind::kWindows:
      return OpenWindows(session, options);
    case DataKind::kExamples:
      return OpenExamples(session, options);
  }
  return absl::InternalError("unknown kind of data");
}

}  // namespace rnnflow
