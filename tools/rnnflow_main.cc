// rnnflow: train, check and inspect recurrent models.
#include <iostream>
#include <string>
#include <vector>

#include "tools/check_reference_command.h"
#include "tools/commands.h"
#include "tools/prepare_command.h"

namespace {

struct Verb {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const Verb kVerbs[] = {
    {"prepare", rnnflow::RunPrepare, "token files, a float series from CSV, or labelled examples"},
    {"train", rnnflow::RunTrain, "train a model on a corpus (truncated BPTT)"},
    {"eval", rnnflow::RunEval, "loss, perplexity and bits per token of a checkpoint on a split"},
    {"generate", rnnflow::RunGenerate, "sample text from a trained language model"},
    {"predict", rnnflow::RunPredict, "classify or tag text lines with a trained example model"},
    {"decode", rnnflow::RunDecode,
     "seq2seq: greedy or beam-search output sequences; error rates on a split"},
    {"validate", rnnflow::RunValidate, "check a model; print its inputs, outputs, parameters"},
    {"inspect", rnnflow::RunInspect, "parameter counts, FLOPs per step, memory; Graphviz"},
    {"ops", rnnflow::RunOps, "list every registered op"},
    {"check-reference", rnnflow::RunCheckReference,
     "compare a fused layer against a PyTorch reference case"},
};

int Help(std::ostream& out) {
  out << "usage: rnnflow VERB [ARGS...]   (rnnflow VERB --help for details)\n\nverbs:\n";
  for (const Verb& v : kVerbs) {
    out << "  " << v.name << std::string(18 - std::string(v.name).size(), ' ') << v.summary << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Help(std::cerr);
    return 2;
  }
  const std::string verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") return Help(std::cout);
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Verb& v : kVerbs) {
    if (verb == v.name) return v.run(args);
  }
  std::cerr << "rnnflow: unknown verb '" << verb << "'\n";
  Help(std::cerr);
  return 2;
}
