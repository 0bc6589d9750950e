// The one place that chooses a model's batch sources (training/batch_source.h)
// from its feeds and opens them on the data directory:
//
//   EXAMPLE_* inputs          ExampleBatchSource (labelled examples, pairs)
//   SERIES, NEXT_SERIES       WindowBatchSource with a window W > 0, else
//                             SeriesBatchSource
//   TOKENS, NEXT_TOKENS       TokenBatchSource (with RESETS: documents)
//
// In two steps, because labelled examples decide the session's shapes: the
// bindings of the session the sources feed, then the sources for it.
#ifndef RNNFLOW_TRAINING_BATCH_SOURCE_FACTORY_H_
#define RNNFLOW_TRAINING_BATCH_SOURCE_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/batch_source.h"

namespace rnnflow {

struct BatchSources {
  std::unique_ptr<BatchSource> train;
  // nullptr when the data has no valid split (or options.validate is false).
  std::unique_ptr<BatchSource> valid;
};

// The symbols the sources' batches bind: T (options.steps) and N
// (options.streams); for labelled examples whose source runs over its own
// time symbol, that symbol bound to options.source_steps (> 0) or the
// longest source of the train and valid splits. Errors when the model's
// feeds name no one kind of data, or a window is set for a model not fed
// SERIES.
absl::StatusOr<SymbolBindings> BatchBindings(const Graph& graph, const BatchSourceOptions& options);

// The train and valid sources feeding `session` (created with the bindings
// above); the train split's token streams prefetch their next chunk.
absl::StatusOr<BatchSources> OpenBatchSources(const Session& session,
                                              const BatchSourceOptions& options);

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_BATCH_SOURCE_FACTORY_H_
