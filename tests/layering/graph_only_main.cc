// Linked with the graph layer's objects only (rnnflow_graph, rnnflow_proto,
// rnnflow_base, Abseil, protobuf; tests/layering/CMakeLists.txt): loads and
// validates every model named on the command line. That it links shows that
// the graph layer needs no oneDNN, MPI, OpenMP or any layer above it; that
// none of those is loaded shows that no dependency brought them in.
//
//   graph_only_validate MODEL.pbtxt...
#include <iostream>

#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "tests/layering/loaded_libraries.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: graph_only_validate MODEL.pbtxt...\n";
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    auto loaded = rnnflow::LoadModelFile(argv[i]);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      ++failed;
      continue;
    }
    auto graph = rnnflow::Graph::Build(loaded->model, loaded->source);
    if (!graph.ok()) {
      std::cerr << graph.status().message() << "\n";
      ++failed;
      continue;
    }
    std::cout << argv[i] << ": OK (" << graph->nodes().size() << " nodes, "
              << graph->NumParameters() << " parameters)\n";
  }
  for (const std::string& library :
       rnnflow::LoadedLibraries({"libdnnl", "libmpi", "libopen-", "libgomp", "libomp"})) {
    std::cerr << "the graph layer loaded " << library << "\n";
    ++failed;
  }
  return failed == 0 ? 0 : 1;
}
