// Loading and validating a model file for the command-line verbs.
#ifndef RNNFLOW_TOOLS_LOAD_H_
#define RNNFLOW_TOOLS_LOAD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

struct LoadedGraph {
  LoadedModel loaded;
  Graph graph;
};

absl::StatusOr<std::unique_ptr<LoadedGraph>> LoadGraph(const std::string& path,
                                                       const GraphOptions& options = {});

// The newest valid checkpoint of a directory, or one file (`path`); it must
// belong to this model (same hash). Warnings about skipped files go to stderr.
absl::StatusOr<CheckpointData> LoadCheckpointFor(const Graph& graph, const std::string& path);
// Copies the checkpoint's parameters into `dst` (Graph::params() order).
absl::Status RestoreParams(const Graph& graph, const CheckpointData& data,
                           const std::vector<Tensor>& dst);

// Prints "rnnflow VERB: message" to stderr and returns `code`.
int Fail(const std::string& verb, const absl::Status& status, int code = 1);

// Series models: the window W the checkpoint was trained on (0: stateful),
// or training.window for checkpoints that do not record it.
int64_t TrainedWindow(const Graph& graph, const CheckpointData& checkpoint);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_LOAD_H_
