// The adding problem for examples/vanilla_vs_gated (adding_task.h):
//
//   vanilla_vs_gated_adding generate --length L --out DIR
//       [--train 20000] [--valid 2000] [--test 2000] [--seed 1]
//     DIR/{train,valid,test}.ex, readable by `rnnflow train/eval` with the
//     models of this folder (train with --truncation-steps L).
//   vanilla_vs_gated_adding score MODEL.pbtxt --checkpoint DIR --data DIR
//       [--split test]
//     MSE and the fraction of predictions within 0.04 of the target.
//   vanilla_vs_gated_adding sweep --out DIR [--lengths 10,25,50,100,200]
//       [--cells rnn_tanh,rnn_relu,gru,lstm] [--steps 1000] [--threads 1]
//     For every length: generate DIR/adding-L (unless there), train every
//     cell for --steps steps from scratch with the model's training block,
//     score the test split; one Markdown table row per run on stdout.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "examples/vanilla_vs_gated/adding_model.h"
#include "examples/vanilla_vs_gated/adding_task.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "rnnflow/training/trainer.h"
#include "tools/flags.h"

namespace rnnflow::vanilla_vs_gated {
namespace {

absl::Status Generate(const ParsedFlags& a) {
  RF_ASSIGN_OR_RETURN(int64_t length, a.GetInt("length", 0));
  AddingCounts c;
  RF_ASSIGN_OR_RETURN(c.train, a.GetInt("train", c.train));
  RF_ASSIGN_OR_RETURN(c.valid, a.GetInt("valid", c.valid));
  RF_ASSIGN_OR_RETURN(c.test, a.GetInt("test", c.test));
  RF_ASSIGN_OR_RETURN(int64_t seed, a.GetInt("seed", 1));
  RF_RETURN_IF_ERROR(WriteAddingData(a.Get("out"), length, c, static_cast<uint64_t>(seed)));
  std::cout << absl::StrFormat(
      "%s: adding problem, length %d: %d train, %d valid, %d test sequences (seed %d)\n",
      a.Get("out"), length, c.train, c.valid, c.test, seed);
  return absl::OkStatus();
}

// A session of `graph` bound to the data's length, with trained parameters.
absl::StatusOr<AddingScore> ScoreSplit(Session& session, const std::string& dir,
                                       const std::string& split) {
  RF_ASSIGN_OR_RETURN(auto file, ExampleFile::Open(absl::StrCat(dir, "/", split, ".ex")));
  RF_ASSIGN_OR_RETURN(auto feeder, ExampleFeeder::Create(session, file->info(), dir));
  return ScoreAdding(session, *feeder, *file);
}

absl::Status Score(const ParsedFlags& a) {
  const std::string dir = a.Get("data"), split = a.Get("split", "test");
  RF_ASSIGN_OR_RETURN(Graph graph, LoadGraph(a.positional[0]));
  RF_ASSIGN_OR_RETURN(auto file, ExampleFile::Open(absl::StrCat(dir, "/", split, ".ex")));
  if (file->size() == 0) return absl::InvalidArgumentError(file->path() + " has no examples");
  std::vector<std::string> warnings;
  RF_ASSIGN_OR_RETURN(CheckpointData ckpt,
                      LoadCheckpointFor(graph, a.Get("checkpoint"), &warnings));
  Warn(warnings);
  SessionOptions so;
  so.bindings = {{"T", file->length(0)}, {"N", 100}};
  so.training = false;
  RF_ASSIGN_OR_RETURN(auto session, Session::Create(graph, so));
  RF_RETURN_IF_ERROR(RestoreParams(graph, ckpt, session->params()));
  RF_ASSIGN_OR_RETURN(AddingScore s, ScoreSplit(*session, dir, split));
  std::cout << absl::StrFormat(
      "%s split '%s' (length %d) at step %d: %d sequences, MSE %.4f, within %.2f: %.1f%% "
      "(predicting 1.0: MSE 0.167, 7.8%%)\n",
      dir, split, file->length(0), ckpt.step, s.examples, s.mse, kTolerance, 100 * s.accuracy);
  return absl::OkStatus();
}

absl::Status Sweep(const ParsedFlags& a) {
  std::vector<int64_t> lengths;
  for (absl::string_view s : absl::StrSplit(a.Get("lengths", "10,25,50,100,200"), ',')) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(s, &v) || v < 2) {
      return absl::InvalidArgumentError(absl::StrCat("--lengths: '", s, "' is not a length >= 2"));
    }
    lengths.push_back(v);
  }
  std::vector<Cell> cells;
  for (absl::string_view s : absl::StrSplit(a.Get("cells", "rnn_tanh,rnn_relu,gru,lstm"), ',')) {
    RF_ASSIGN_OR_RETURN(Cell c, ParseCell(std::string(s)));
    cells.push_back(c);
  }
  RF_ASSIGN_OR_RETURN(int64_t steps, a.GetInt("steps", 1000));
  RF_ASSIGN_OR_RETURN(int64_t threads, a.GetInt("threads", 1));
  std::cout << "| length | cell | steps | test MSE | within 0.04 | train time |\n"
               "| --- | --- | --- | --- | --- | --- |\n";
  for (int64_t length : lengths) {
    const std::string dir = absl::StrCat(a.Get("out"), "/adding-", length);
    if (!std::filesystem::exists(dir + "/test.ex")) {
      RF_RETURN_IF_ERROR(WriteAddingData(dir, length, AddingCounts(), 1));
    }
    for (Cell cell : cells) {
      RF_ASSIGN_OR_RETURN(ModelDef model, BuildAddingModel(cell));
      RF_ASSIGN_OR_RETURN(Graph graph, Graph::Build(model, SourceMap(CellName(cell))));
      TrainerOptions o;
      o.data_path = dir;
      o.steps = steps;
      o.truncation_steps = length;
      o.threads = static_cast<int>(threads);
      o.validate = false;
      RF_ASSIGN_OR_RETURN(auto trainer, Trainer::Create(graph, o));
      const auto start = std::chrono::steady_clock::now();
      RF_RETURN_IF_ERROR(trainer->Run().status());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      RF_ASSIGN_OR_RETURN(AddingScore s, ScoreSplit(trainer->session(), dir, "test"));
      std::cout << absl::StrFormat("| %d | %s | %d | %.4f | %.1f%% | %.0f s |\n", length,
                                   CellName(cell), steps, s.mse, 100 * s.accuracy, seconds)
                << std::flush;
    }
  }
  return absl::OkStatus();
}

int RunGenerate(const std::vector<std::string>& args) {
  return RunCommand("vanilla_vs_gated_adding generate", args, "--length L --out DIR [flags]",
                    "Writes DIR/{train,valid,test}.ex: adding-problem sequences of length L,\n"
                    "readable by `rnnflow train/eval` (train with --truncation-steps L).",
                    {{"length", "L", "time steps per sequence (>= 2)"},
                     {"out", "DIR", "output directory"},
                     {"train", "N", "train sequences (default 20000)"},
                     {"valid", "N", "valid sequences (default 2000)"},
                     {"test", "N", "test sequences (default 2000)"},
                     {"seed", "S", "random seed (default 1)"}},
                    0, {"length", "out"}, Generate);
}

int RunScore(const std::vector<std::string>& args) {
  return RunCommand("vanilla_vs_gated_adding score", args,
                    "MODEL.pbtxt --checkpoint PATH --data DIR [--split test]",
                    "MSE of a trained model on a split, and the fraction of predictions within\n"
                    "0.04 of the target.",
                    {{"checkpoint", "PATH", "checkpoint file or directory (its newest valid one)"},
                     {"data", "DIR", "a directory from `vanilla_vs_gated_adding generate`"},
                     {"split", "NAME", "the split scored (default test)"}},
                    1, {"checkpoint", "data"}, Score);
}

int RunSweep(const std::vector<std::string>& args) {
  return RunCommand(
      "vanilla_vs_gated_adding sweep", args, "--out DIR [flags]",
      "For every length: generates DIR/adding-L (unless there), trains every cell\n"
      "for --steps steps from scratch with the model's training block and scores\n"
      "the test split; one Markdown table row per run on stdout.",
      {{"out", "DIR", "where the data sets go"},
       {"lengths", "L,L,...", "sequence lengths (default 10,25,50,100,200)"},
       {"cells", "C,C,...", "cells (default rnn_tanh,rnn_relu,gru,lstm)"},
       {"steps", "N", "optimizer steps per run (default 1000)", "TrainerOptions::steps"},
       {"threads", "N", "OpenMP threads (default 1)", "TrainerOptions::threads"}},
      0, {"out"}, Sweep);
}

}  // namespace
}  // namespace rnnflow::vanilla_vs_gated

int main(int argc, char** argv) {
  using namespace rnnflow::vanilla_vs_gated;  // NOLINT(build/namespaces)
  return rnnflow::RunVerbs("vanilla_vs_gated_adding",
                           {{"generate", RunGenerate, "adding-problem data sets of one length"},
                            {"score", RunScore, "MSE and accuracy of a trained model on a split"},
                            {"sweep", RunSweep, "train and score every cell at every length"}},
                           argc, argv);
}
