// rnnflow validate / inspect.
#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rnnflow/graph/cost_model.h"
#include "rnnflow/graph/dot_export.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/graph/training_summary.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/optimizer.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

const char* TimeKindName(TimeKind k) {
  switch (k) {
    case TimeKind::kStatic:
      return "static";
    case TimeKind::kSequence:
      return "sequence";
    case TimeKind::kStep:
      return "per-step";
  }
  return "?";
}

void PrintSummary(const Graph& g, std::ostream& out) {
  out << "model '" << g.model().name() << "'\n\ninputs:\n";
  for (int id : g.graph_inputs()) {
    const TensorInfo& t = g.tensor(id);
    const InputDef& def = g.model().input(t.index);
    out << absl::StrFormat(
        "  %-20s %-8s %s%s\n", t.name, DataType_Name(t.dtype), ShapeToString(t.shape),
        def.feed() == FEED_NONE ? "" : absl::StrCat("  feed ", Feed_Name(def.feed())));
  }
  out << "\noutputs:\n";
  for (int id : g.outputs()) {
    const TensorInfo& t = g.tensor(id);
    out << absl::StrFormat("  %-20s %-8s %s\n", t.name, DataType_Name(t.dtype),
                           ShapeToString(t.StackedShape()));
  }
  if (g.loss() >= 0) out << "\nloss: " << g.tensor(g.loss()).name << "\n";
  if (!g.states().empty()) {
    out << "\nstates:\n";
    for (const StateInfo& s : g.states()) {
      out << absl::StrFormat("  %-20s %s  <- %s at t-1\n", s.name,
                             ShapeToString(g.tensor(s.tensor).shape), g.tensor(s.update).name);
    }
  }
  out << "\nparameters:\n";
  for (const ParamInfo& p : g.params()) {
    out << absl::StrFormat("  %-28s %-14s %10d  init %s\n", p.name, ShapeToString(p.shape),
                           NumElements(p.shape), p.init.kind().empty() ? "zeros" : p.init.kind());
  }
  out << absl::StrFormat("  total %d parameters\n", g.NumParameters());
  out << "\ntensors:\n";
  for (int n : g.schedule()) {
    const NodeInfo& node = g.nodes()[n];
    for (int o : node.outputs) {
      const TensorInfo& t = g.tensor(o);
      out << absl::StrFormat("  %-20s %-20s %-8s %-9s %s\n", t.name, node.def->op(),
                             DataType_Name(t.dtype), TimeKindName(t.time),
                             ShapeToString(t.StackedShape()));
    }
  }
}

// The training block as a run takes it. The flags of `rnnflow train` named
// here replace the fields they name.
void PrintTraining(const Graph& g, std::ostream& out) {
  out << "\ntraining (the model's; rnnflow train's --steps, --lr, --truncation-steps,\n"
         "--streams-per-worker, --window and --seed replace what they name):\n"
      << FormatTraining(DescribeTraining(g.model().training()));
}

// What the optimizer would refuse when training starts (sgd.momentum 1.5,
// a step schedule without decay_steps, ...), reported now at the training
// block's position.
absl::Status CheckTraining(const Graph& g) {
  absl::Status s = ValidateTrainingDef(g.model().training());
  if (s.ok()) return s;
  return absl::InvalidArgumentError(
      absl::StrCat(g.source().Prefix(g.source().Training()), s.message()));
}

SymbolBindings DefaultBindings(const Graph& g, const ParsedFlags& flags) {
  const TrainingDef& tr = g.model().training();
  SymbolBindings b;
  b["T"] = tr.truncation_steps() > 0 ? tr.truncation_steps() : kTrainingDefaults.truncation_steps;
  b["N"] =
      tr.streams_per_worker() > 0 ? tr.streams_per_worker() : kTrainingDefaults.streams_per_worker;
  if (auto t = flags.GetInt("T", -1); t.ok() && *t > 0) b["T"] = *t;
  if (auto n = flags.GetInt("N", -1); n.ok() && *n > 0) b["N"] = *n;
  // Other time symbols (a pairs model's source S) are sized like T here.
  for (const std::string& t : g.time_symbols()) b.emplace(t, b["T"]);
  return b;
}

std::string HumanBytes(int64_t b) {
  if (b >= (1LL << 30)) return absl::StrFormat("%.2f GiB", b / double(1LL << 30));
  if (b >= (1LL << 20)) return absl::StrFormat("%.2f MiB", b / double(1LL << 20));
  return absl::StrFormat("%.1f KiB", b / 1024.0);
}

}  // namespace

int RunValidate(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"inference", "", "the model need not have a loss"},
  };
  const std::string usage =
      Usage("rnnflow validate", "MODEL.pbtxt [--inference]",
            "Checks MODEL against the op registry (attributes, inputs, shapes, "
            "state links, loss)\n"
            "and prints its inputs, outputs, parameters, shapes and training block. Exit "
            "status 1 on any error,\n"
            "reported as FILE:LINE:COL: node 'NAME' (OP): what was expected.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow validate", args, specs, usage, 1, {}, &flags)) {
    return *exit;
  }
  GraphOptions options;
  options.require_loss = !flags.Has("inference");
  auto graph = LoadGraph(flags.positional[0], options);
  const absl::Status status = graph.ok() ? CheckTraining(*graph) : graph.status();
  if (!status.ok()) {
    std::cerr << status.message() << "\n";
    return 1;
  }
  PrintSummary(*graph, std::cout);
  PrintTraining(*graph, std::cout);
  std::cout << "\n" << flags.positional[0] << ": OK\n";
  return 0;
}

int RunInspect(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"T", "STEPS", "time steps per chunk (default: training.truncation_steps)"},
      {"N", "STREAMS", "streams per worker (default: training.streams_per_worker)"},
      {"dot", "FILE", "write the graph as Graphviz (rolled, or unrolled with --unrolled)"},
      {"unrolled", "T", "with --dot: the graph unrolled over T steps"},
  };
  const std::string usage =
      Usage("rnnflow inspect", "MODEL.pbtxt [--T STEPS] [--N STREAMS] [--dot FILE [--unrolled T]]",
            "Prints parameter counts, FLOPs per training step and the planned "
            "peak memory for\n"
            "chunks of T steps of N streams (the static memory plan, known "
            "before any step runs).",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow inspect", args, specs, usage, 1, {}, &flags)) {
    return *exit;
  }
  GraphOptions options;
  options.require_loss = false;
  auto graph = LoadGraph(flags.positional[0], options);
  if (!graph.ok()) return Fail(flags, graph.status());
  const Graph& g = *graph;
  for (const char* f : {"T", "N", "unrolled"}) {
    if (auto v = flags.GetInt(f, 1); !v.ok() || *v < 1) {
      return Fail(flags,
                  absl::InvalidArgumentError(absl::StrCat("--", f, " expects a positive integer")),
                  2);
    }
  }
  const SymbolBindings bindings = DefaultBindings(g, flags);

  if (flags.Has("dot")) {
    std::string dot;
    if (flags.Has("unrolled")) {
      auto d = UnrolledDot(g, *flags.GetInt("unrolled", 1));
      if (!d.ok()) return Fail(flags, d.status());
      dot = *std::move(d);
    } else {
      dot = RolledDot(g);
    }
    std::ofstream f(flags.Get("dot"));
    f << dot;
    f.close();
    if (!f) {
      return Fail(flags,
                  absl::InvalidArgumentError(absl::StrCat(flags.Get("dot"), ": cannot write")));
    }
    std::cout << "wrote " << flags.Get("dot") << "\n";
  }
  std::cout << absl::StrFormat("model '%s' for T=%d, N=%d\n\n", g.model().name(), bindings.at("T"),
                               bindings.at("N"));
  std::cout << "parameters:\n";
  for (const ParamInfo& p : g.params()) {
    std::cout << absl::StrFormat("  %-28s %-14s %10d\n", p.name, ShapeToString(p.shape),
                                 NumElements(p.shape));
  }
  std::cout << absl::StrFormat("  total %d (%s as float32)\n\n", g.NumParameters(),
                               HumanBytes(g.NumParameters() * 4));
  auto flops = CountFlops(g, bindings);
  if (!flops.ok()) return Fail(flags, flops.status());
  std::cout << absl::StrFormat(
      "FLOPs per training step: %.3f GFLOP (forward %.3f, backward %.3f); per "
      "token %.0f\n",
      flops->training_step() / 1e9, flops->forward / 1e9, flops->backward / 1e9,
      double(flops->training_step()) / (bindings.at("T") * bindings.at("N")));

  SessionOptions so;
  so.bindings = bindings;
  so.training = g.loss() >= 0;
  auto session = Session::Create(g, so);
  if (!session.ok()) return Fail(flags, session.status());
  const MemoryPlanStats& m = (*session)->memory();
  std::cout << absl::StrFormat(
      "planned peak memory: %s (activations %s, gradients %s, parameters %s, "
      "carried state "
      "%s, kernel workspaces %s)\n",
      HumanBytes(m.total()), HumanBytes(m.activations), HumanBytes(m.gradients),
      HumanBytes(m.parameters), HumanBytes(m.carried), HumanBytes(m.kernels));
  PrintTraining(g, std::cout);
  return 0;
}

}  // namespace rnnflow
