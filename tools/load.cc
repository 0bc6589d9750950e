#include "tools/load.h"

#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<LoadedGraph>> LoadGraph(const std::string& path,
                                                       const GraphOptions& options) {
  auto out = std::make_unique<LoadedGraph>();
  RF_ASSIGN_OR_RETURN(out->loaded, LoadModelFile(path));
  RF_ASSIGN_OR_RETURN(out->graph, Graph::Build(out->loaded.model, out->loaded.source, options));
  return out;
}

// The newest valid checkpoint of a directory, or one file; it must belong to
// this model.
absl::StatusOr<CheckpointData> LoadCheckpointFor(const Graph& graph, const std::string& path) {
  absl::StatusOr<CheckpointData> data;
  if (std::filesystem::is_directory(path)) {
    std::vector<std::string> warnings;
    data = LoadLatestCheckpoint(path, &warnings);
    for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
  } else {
    data = LoadCheckpoint(path);
  }
  if (!data.ok()) return data.status();
  if (!CheckpointBelongsTo(data->model_hash, graph.model())) {
    return absl::FailedPreconditionError(
        absl::StrCat(data->path, ": this checkpoint belongs to model '", data->model_name,
                     "' with another graph; use the model file it was trained with"));
  }
  return data;
}

absl::Status RestoreParams(const Graph& graph, const CheckpointData& data,
                           const std::vector<Tensor>& dst) {
  std::vector<std::string> names;
  for (const ParamInfo& p : graph.params()) names.push_back(p.name);
  return RestoreCheckpointTensors(data.path, "parameter", data.params, names, dst);
}

int Fail(const std::string& verb, const absl::Status& status, int code) {
  std::cerr << "rnnflow " << verb << ": " << status.message() << "\n";
  return code;
}

int64_t TrainedWindow(const Graph& graph, const CheckpointData& checkpoint) {
  return checkpoint.series_window >= 0 ? checkpoint.series_window
                                       : graph.model().training().window();
}

}  // namespace rnnflow
