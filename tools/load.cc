#include "tools/load.h"

#include <iostream>

#include "graph/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<LoadedGraph>> LoadGraph(const std::string& path,
                                                       const GraphOptions& options) {
  auto out = std::make_unique<LoadedGraph>();
  RF_ASSIGN_OR_RETURN(out->loaded, LoadModelFile(path));
  RF_ASSIGN_OR_RETURN(out->graph, Graph::Build(out->loaded.model, out->loaded.source, options));
  return out;
}

int Fail(const std::string& verb, const absl::Status& status, int code) {
  std::cerr << "rnnflow " << verb << ": " << status.message() << "\n";
  return code;
}

}  // namespace rnnflow
