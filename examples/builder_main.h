// The command line every example's C++ builder program shares:
//
//   PROGRAM [--print]                the built model as .pbtxt text
//   PROGRAM --check model.pbtxt      exit 0 iff the file is the same model
//   PROGRAM --data PATH [--steps N]  train the built model on PATH
//
// plus the builder's own flags that choose among its models (e.g. --cell
// gru). An example's builder defines its model with graph/builder.h and
// hands it to RunBuilderMain; the build adds a `--check` test for every
// example whose folder has a model.pbtxt and a <folder>_builder.cc.
#ifndef RNNFLOW_EXAMPLES_BUILDER_MAIN_H_
#define RNNFLOW_EXAMPLES_BUILDER_MAIN_H_

#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/util/message_differencer.h"
#include "rnnflow/graph/builder.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
#include "tools/flags.h"

namespace rnnflow {

// Builds the program's model from the flags in `model_flags`.
using BuildModelFn = std::function<absl::StatusOr<ModelDef>(const ParsedFlags& flags)>;

inline int RunBuilderMain(int argc, char** argv, const BuildModelFn& build,
                          const std::vector<FlagSpec>& model_flags = {}) {
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  std::vector<FlagSpec> specs = {
      {"print", "", "print the built model as .pbtxt text (the default)"},
      {"check", "MODEL.pbtxt", "exit 0 iff the file holds the same model"},
      {"data", "PATH", "train the built model on PATH (as `rnnflow train --data`)"},
      {"steps", "N", "with --data: optimizer steps (default: the model's training.steps)",
       "TrainerOptions::steps"},
  };
  specs.insert(specs.end(), model_flags.begin(), model_flags.end());
  const std::string usage =
      Usage(program, "[--print | --check MODEL.pbtxt | --data PATH [--steps N]] [flags]",
            "Builds this example's model with the C++ graph-builder API (graph/builder.h).", specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine(program, std::vector<std::string>(argv + 1, argv + argc), specs,
                                   usage, 0, {}, &flags)) {
    return *exit;
  }
  if (flags.Has("print") + flags.Has("check") + flags.Has("data") > 1 ||
      (flags.Has("steps") && !flags.Has("data"))) {
    std::cerr << usage;
    return 2;
  }
  auto model = build(flags);
  if (!model.ok()) return Fail(flags, model.status());
  if (flags.Has("check")) {
    const std::string path = flags.Get("check");
    auto file = LoadModelFile(path);
    if (!file.ok()) return Fail(flags, file.status());
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    if (!differ.Compare(file->model, *model)) {
      std::cerr << "the builder's model differs from " << path << ":\n" << diff;
      return 1;
    }
    std::cout << "the builder's model equals " << path << "\n";
    return 0;
  }
  if (flags.Has("data")) {
    auto graph = Graph::Build(*model, SourceMap(program));
    if (!graph.ok()) return Fail(flags, graph.status());
    TrainerOptions options;
    options.data_path = flags.Get("data");
    auto steps = flags.GetInt("steps", -1);
    if (!steps.ok()) return Fail(flags, steps.status(), 2);
    options.steps = *steps;
    options.log = &std::cout;
    auto trainer = Trainer::Create(*graph, options);
    if (!trainer.ok()) return Fail(flags, trainer.status());
    auto run = (*trainer)->Run();
    if (!run.ok()) return Fail(flags, run.status());
    return 0;
  }
  std::cout << ModelToText(*model);
  return 0;
}

}  // namespace rnnflow

#endif  // RNNFLOW_EXAMPLES_BUILDER_MAIN_H_
