// The command line every example's C++ builder program shares:
//
//   PROGRAM --print                  the built model as .pbtxt text
//   PROGRAM --check model.pbtxt      exit 0 iff the file is the same model
//   PROGRAM --data PATH [--steps N]  train the built model on PATH
//
// An example's builder defines its model with graph/builder.h and hands it
// to RunBuilderMain; the build adds a `--check` test for every example whose
// folder has a model.pbtxt and a <folder>_builder.cc.
#ifndef RNNFLOW_EXAMPLES_BUILDER_MAIN_H_
#define RNNFLOW_EXAMPLES_BUILDER_MAIN_H_

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/util/message_differencer.h"
#include "rnnflow/graph/builder.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {

inline int RunBuilderMain(int argc, char** argv, const absl::StatusOr<ModelDef>& model) {
  auto fail = [](const absl::Status& status) {
    std::cerr << status.message() << "\n";
    return 1;
  };
  if (!model.ok()) return fail(model.status());
  const std::string mode = argc > 1 ? argv[1] : "--print";
  if (mode == "--print" && argc <= 2) {
    std::cout << ModelToText(*model);
    return 0;
  }
  if (mode == "--check" && argc == 3) {
    auto file = LoadModelFile(argv[2]);
    if (!file.ok()) return fail(file.status());
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    if (!differ.Compare(file->model, *model)) {
      std::cerr << "the builder's model differs from " << argv[2] << ":\n" << diff;
      return 1;
    }
    std::cout << "the builder's model equals " << argv[2] << "\n";
    return 0;
  }
  if (mode == "--data" && (argc == 3 || (argc == 5 && std::string(argv[3]) == "--steps"))) {
    auto graph = Graph::Build(*model, SourceMap(argv[0]));
    if (!graph.ok()) return fail(graph.status());
    TrainerOptions options;
    options.data_path = argv[2];
    if (argc == 5) options.steps = std::atoll(argv[4]);
    options.log = &std::cout;
    auto trainer = Trainer::Create(*graph, options);
    if (!trainer.ok()) return fail(trainer.status());
    auto run = (*trainer)->Run();
    if (!run.ok()) return fail(run.status());
    return 0;
  }
  std::cerr << "usage: " << argv[0]
            << " [--print | --check MODEL.pbtxt | --data PATH [--steps N]]\n";
  return 2;
}

}  // namespace rnnflow

#endif  // RNNFLOW_EXAMPLES_BUILDER_MAIN_H_
