// A trained graph's checkpoint: finding the one that belongs to a graph's
// model (a file, or the newest valid one of a directory), copying its
// parameters into a session, and the series window it was trained on. What
// `rnnflow eval`, `predict`, `decode`, `generate` and the example programs
// do before they run a trained model.
#ifndef RNNFLOW_RUNTIME_GRAPH_CHECKPOINT_H_
#define RNNFLOW_RUNTIME_GRAPH_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

// The checkpoint `path` names: the file itself, or the newest checkpoint of
// the directory that verifies (LoadLatestCheckpoint: newer corrupt files are
// skipped, each described by a line appended to `warnings` when given, for
// the caller to show). It must belong to `graph`'s model
// (CheckpointBelongsTo); otherwise FailedPrecondition naming both models.
absl::StatusOr<CheckpointData> LoadCheckpointFor(const Graph& graph, const std::string& path,
                                                 std::vector<std::string>* warnings = nullptr);

// Copies the checkpoint's parameters into `dst`, in Graph::params() order
// (e.g. Session::params()); errors as RestoreCheckpointTensors.
absl::Status RestoreParams(const Graph& graph, const CheckpointData& checkpoint,
                           const std::vector<Tensor>& dst);

// Series models: the window W the checkpoint was trained on (0: stateful),
// or the model's training.window for checkpoints that do not record it.
int64_t TrainedWindow(const Graph& graph, const CheckpointData& checkpoint);

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_GRAPH_CHECKPOINT_H_
