// rnnflow: train, check and inspect recurrent models.
#include <iostream>
#include <string>

#include "rnnflow/base/version.h"
#include "tools/check_reference_command.h"
#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/prepare_command.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::cout << rnnflow::VersionReport();
    return 0;
  }
  return rnnflow::RunVerbs(
      "rnnflow",
      {
          {"prepare", rnnflow::RunPrepare,
           "token files, a float series from CSV, or labelled examples"},
          {"train", rnnflow::RunTrain, "train a model on a corpus (truncated BPTT)"},
          {"eval", rnnflow::RunEval,
           "loss, perplexity and bits per token of a checkpoint on a split"},
          {"generate", rnnflow::RunGenerate, "sample text from a trained language model"},
          {"predict", rnnflow::RunPredict,
           "classify or tag text lines with a trained example model"},
          {"decode", rnnflow::RunDecode,
           "seq2seq: greedy or beam-search output sequences; error rates on a split"},
          {"validate", rnnflow::RunValidate,
           "check a model; print its inputs, outputs, parameters"},
          {"inspect", rnnflow::RunInspect, "parameter counts, FLOPs per step, memory; Graphviz"},
          {"ops", rnnflow::RunOps, "list every registered op"},
          {"check-reference", rnnflow::RunCheckReference,
           "compare a fused layer against a PyTorch reference case"},
      },
      argc, argv);
}
