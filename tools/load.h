// Loading and validating a model file for the command-line verbs.
#ifndef RNNFLOW_TOOLS_LOAD_H_
#define RNNFLOW_TOOLS_LOAD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/model_loader.h"

namespace rnnflow {

struct LoadedGraph {
  LoadedModel loaded;
  Graph graph;
};

absl::StatusOr<std::unique_ptr<LoadedGraph>> LoadGraph(const std::string& path,
                                                       const GraphOptions& options = {});

// Prints "rnnflow VERB: message" to stderr and returns `code`.
int Fail(const std::string& verb, const absl::Status& status, int code = 1);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_LOAD_H_
