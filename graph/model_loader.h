// Reading and writing model files (.pbtxt). Parsing keeps the position of
// every node, input and attribute so later errors can point at them.
#ifndef RNNFLOW_GRAPH_MODEL_LOADER_H_
#define RNNFLOW_GRAPH_MODEL_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/source_map.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

struct LoadedModel {
  ModelDef model;
  SourceMap source;
};

// Parses model text; `file` names it in error messages
// ("model.pbtxt:3:5: syntax error: ...").
absl::StatusOr<LoadedModel> ParseModelText(absl::string_view text, const std::string& file);

// Reads and parses a file.
absl::StatusOr<LoadedModel> LoadModelFile(const std::string& path);

// Reads, parses and builds a model file: the graph a command or program
// trains or runs (errors point into the file).
absl::StatusOr<Graph> LoadGraph(const std::string& path, const GraphOptions& options = {});

// Text form of a model (what ParseModelText reads back).
std::string ModelToText(const ModelDef& model);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_MODEL_LOADER_H_
