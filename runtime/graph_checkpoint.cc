#include "rnnflow/runtime/graph_checkpoint.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<CheckpointData> LoadCheckpointFor(const Graph& graph, const std::string& path,
                                                 std::vector<std::string>* warnings) {
  std::error_code ignored;  // an unreadable path fails in LoadCheckpoint, naming it
  RF_ASSIGN_OR_RETURN(CheckpointData data, std::filesystem::is_directory(path, ignored)
                                               ? LoadLatestCheckpoint(path, warnings)
                                               : LoadCheckpoint(path));
  if (!CheckpointBelongsTo(data.model_hash, graph.model())) {
    const std::string& name = graph.model().name();
    const std::string other = data.model_name == name
                                  ? absl::StrCat("another graph of model '", name, "'")
                                  : absl::StrCat("model '", data.model_name, "', not '", name, "'");
    return absl::FailedPreconditionError(absl::StrCat(data.path,
                                                      ": this checkpoint was written for ", other,
                                                      "; use the model file it was trained with"));
  }
  return data;
}

absl::Status RestoreParams(const Graph& graph, const CheckpointData& checkpoint,
                           const std::vector<Tensor>& dst) {
  std::vector<std::string> names;
  for (const ParamInfo& p : graph.params()) names.push_back(p.name);
  return RestoreCheckpointTensors(checkpoint.path, "parameter", checkpoint.params, names, dst);
}

int64_t TrainedWindow(const Graph& graph, const CheckpointData& checkpoint) {
  return checkpoint.series_window >= 0 ? checkpoint.series_window
                                       : graph.model().training().window();
}

}  // namespace rnnflow
