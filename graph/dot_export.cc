#include "rnnflow/graph/dot_export.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace rnnflow {
namespace {

// A DOT double-quoted string; '\n' in `s` becomes a line break in a label.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  out += "\"";
  return out;
}

// Fused recurrent layers (LSTM, GRU, RNN) carry their own state.
bool IsFused(const NodeInfo& n) { return !n.schema->carried_states().empty(); }

bool SameValue(const AttrValue& a, const AttrValue& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// "units=64, activation=relu": required attributes and those not at their
// default, in schema order.
std::string KeyAttrs(const NodeInfo& n) {
  std::vector<std::string> parts;
  for (const AttrSpec& spec : n.schema->attrs()) {
    auto it = n.def->attr().find(spec.name);
    if (it == n.def->attr().end()) continue;
    if (!spec.required && SameValue(it->second, spec.default_value)) continue;
    const AttrValue& v = it->second;
    parts.push_back(absl::StrCat(spec.name, "=",
                                 v.value_case() == AttrValue::kS ? v.s() : AttrValueToString(v)));
  }
  return absl::StrJoin(parts, ", ");
}

// Writes one DOT graph, one statement per line.
class DotExporter {
 public:
  explicit DotExporter(const Graph& g) : g_(g) {}

  std::string Rolled() {
    Begin("TB");
    DeclareSources();
    Line(absl::StrCat("subgraph ", Quote("cluster_recurrence"), " {"));
    ++indent_;
    Line(absl::StrCat("label=", Quote("recurrence (runs step by step)"), ";"));
    Line("style=dashed;");
    for (const NodeInfo& n : g_.nodes()) {
      if (n.recurrent) DeclareNode(n, -1);
    }
    --indent_;
    Line("}");
    for (const NodeInfo& n : g_.nodes()) {
      if (!n.recurrent) DeclareNode(n, -1);
    }
    DeclareSinks();
    for (const NodeInfo& n : g_.nodes()) {
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const int t = n.inputs[k];
        if (t < 0) continue;
        Edge(Endpoint(t, -1), NodeId(n, -1), EdgeLabel(t, n.recurrent), "");
      }
    }
    for (const StateInfo& s : g_.states()) {
      Edge(Endpoint(s.update, -1), Endpoint(s.tensor, -1), "t-1", "style=dashed, constraint=false");
      if (s.init >= 0) Edge(Endpoint(s.init, -1), Endpoint(s.tensor, -1), "t=0", "style=dotted");
    }
    SinkEdges(-1);
    return End();
  }

  std::string Unrolled(int64_t T) {
    T_ = T;
    Begin("LR");
    DeclareSources();
    for (const StateInfo& s : g_.states()) {
      const TensorInfo& st = g_.tensor(s.tensor);
      Line(absl::StrCat(
          Quote(InitialStateId(s)), " [shape=box, style=\"rounded,dashed\", label=",
          Quote(absl::StrCat(st.name, " at t=0\n",
                             s.init >= 0 ? absl::StrCat("init ", g_.tensor(s.init).name)
                                         : std::string("zeros or carried"),
                             "\n", ShapeToString(st.shape))),
          "];"));
    }
    for (int64_t t = 0; t < T; ++t) {
      Line(absl::StrCat("subgraph ", Quote(absl::StrCat("cluster_t", t)), " {"));
      ++indent_;
      Line(absl::StrCat("label=", Quote(absl::StrCat("t=", t)), ";"));
      Line("style=rounded;");
      for (const NodeInfo& n : g_.nodes()) {
        if (PerStep(n)) DeclareNode(n, t);
      }
      --indent_;
      Line("}");
    }
    for (const NodeInfo& n : g_.nodes()) {
      if (!PerStep(n)) DeclareNode(n, -1);
    }
    DeclareSinks();
    for (const NodeInfo& n : g_.nodes()) {
      if (!PerStep(n)) {
        for (int t : n.inputs) {
          if (t >= 0) EdgesInto(t, n, -1);
        }
        continue;
      }
      for (int64_t step = 0; step < T; ++step) {
        if (IsFused(n)) {
          // Cell t reads x[t]; connected initial states only at t = 0, then
          // the previous cell's state.
          EdgesInto(n.inputs[0], n, step);
          for (size_t k = 1; k < n.inputs.size(); ++k) {
            const int t = n.inputs[k];
            if (t < 0) continue;
            if (static_cast<int>(k) >= n.num_declared_inputs || step == 0) EdgesInto(t, n, step);
          }
          if (step > 0) {
            Edge(NodeId(n, step - 1), NodeId(n, step), CarriedLabel(n), "style=bold");
          }
        } else {
          for (int t : n.inputs) {
            if (t >= 0) EdgesInto(t, n, step);
          }
        }
      }
    }
    for (const StateInfo& s : g_.states()) {
      if (s.init >= 0) Edge(Endpoint(s.init, -1), InitialStateId(s), "", "style=dotted");
    }
    SinkEdges(T);
    return End();
  }

 private:
  void Line(absl::string_view s) {
    out_.append(2 * indent_, ' ');
    absl::StrAppend(&out_, s, "\n");
  }

  void Begin(absl::string_view rankdir) {
    const std::string& name = g_.model().name();
    Line(absl::StrCat("digraph ", Quote(name.empty() ? "model" : name), " {"));
    ++indent_;
    Line(absl::StrCat("rankdir=", rankdir, ";"));
    Line("node [fontname=\"Helvetica\", fontsize=10];");
    Line("edge [fontname=\"Helvetica\", fontsize=8];");
  }

  std::string End() {
    --indent_;
    Line("}");
    return std::move(out_);
  }

  // Runs once per time step in the unrolled view.
  static bool PerStep(const NodeInfo& n) { return n.recurrent || IsFused(n); }

  static std::string NodeId(const NodeInfo& n, int64_t step) {
    return step < 0 ? absl::StrCat("node:", n.def->name())
                    : absl::StrCat("node:", n.def->name(), "@", step);
  }
  static std::string InitialStateId(const StateInfo& s) {
    return absl::StrCat("state:", s.name, "@init");
  }

  // The DOT node a tensor comes from; `step` picks the copy of a per-step
  // producer (ignored for the others).
  std::string Endpoint(int tensor, int64_t step) const {
    const TensorInfo& t = g_.tensor(tensor);
    switch (t.source) {
      case TensorSource::kGraphInput:
        return absl::StrCat("input:", t.name);
      case TensorSource::kParam:
        return absl::StrCat("param:", t.name);
      case TensorSource::kState:
        return absl::StrCat("state:", t.name);
      case TensorSource::kNodeOutput:
        return NodeId(g_.nodes()[t.index], step);
    }
    return "";
  }

  // The shape of `tensor` as a consumer sees it.
  std::string SeenShape(int tensor, bool per_step_consumer) const {
    const TensorInfo& t = g_.tensor(tensor);
    if (!per_step_consumer) return ShapeToString(t.StackedShape());
    if (t.time == TimeKind::kSequence) {
      return ShapeToString(SymShape(t.shape.begin() + 1, t.shape.end()));
    }
    return ShapeToString(t.shape);
  }

  std::string OutputPrefix(int tensor) const {
    const TensorInfo& t = g_.tensor(tensor);
    if (t.source != TensorSource::kNodeOutput || t.output == 0) return "";
    return absl::StrCat(g_.nodes()[t.index].schema->outputs()[t.output].name, " ");
  }

  std::string EdgeLabel(int tensor, bool per_step_consumer) const {
    return absl::StrCat(OutputPrefix(tensor), SeenShape(tensor, per_step_consumer));
  }

  std::string CarriedLabel(const NodeInfo& n) const {
    std::vector<std::string> names;
    for (const auto& [in, out] : n.schema->carried_states()) {
      std::string s = in;
      if (s.size() > 1 && s.back() == '0') s.pop_back();  // "h0" -> "h"
      names.push_back(s);
    }
    return absl::StrCat(absl::StrJoin(names, ", "), " (t-1)");
  }

  void Edge(const std::string& from, const std::string& to, const std::string& label,
            absl::string_view extra) {
    std::string attrs;
    if (!label.empty()) attrs = absl::StrCat("label=", Quote(label));
    if (!extra.empty()) absl::StrAppend(&attrs, attrs.empty() ? "" : ", ", extra);
    Line(absl::StrCat(Quote(from), " -> ", Quote(to), attrs.empty() ? "" : " [", attrs,
                      attrs.empty() ? "" : "]", ";"));
  }

  // Whether the producer of `tensor` is drawn once per step.
  bool PerStepProducer(int tensor) const {
    const TensorInfo& t = g_.tensor(tensor);
    return t.source == TensorSource::kNodeOutput && PerStep(g_.nodes()[t.index]);
  }

  // Unrolled edges carrying `tensor` into `consumer` (its copy at `step`, or
  // its single batched instance for step < 0).
  void EdgesInto(int tensor, const NodeInfo& consumer, int64_t step) {
    const TensorInfo& t = g_.tensor(tensor);
    const std::string to = NodeId(consumer, step);
    const bool per_step = step >= 0;
    if (t.source == TensorSource::kState) {
      const StateInfo& s = g_.states()[t.index];
      const std::string label = absl::StrCat(t.name, " (t-1) ", ShapeToString(t.shape));
      if (step == 0) {
        Edge(InitialStateId(s), to, label, "style=dashed");
      } else {
        Edge(Endpoint(s.update, step - 1), to, label, "style=dashed");
      }
      return;
    }
    if (!PerStepProducer(tensor)) {
      const bool sliced = per_step && t.time == TimeKind::kSequence;
      Edge(Endpoint(tensor, -1), to,
           absl::StrCat(OutputPrefix(tensor), sliced ? absl::StrCat("[t=", step, "] ") : "",
                        SeenShape(tensor, per_step)),
           "");
      return;
    }
    // A per-step producer: its final-state outputs leave the last cell; its
    // step outputs leave every cell.
    const bool final_state = t.time == TimeKind::kStatic;
    if (final_state) {
      Edge(Endpoint(tensor, T_ - 1), to, EdgeLabel(tensor, per_step), "");
    } else if (per_step) {
      Edge(Endpoint(tensor, step), to, EdgeLabel(tensor, true), "");
    } else {
      for (int64_t s = 0; s < T_; ++s) {
        Edge(Endpoint(tensor, s), to,
             absl::StrCat(OutputPrefix(tensor), "[t=", s, "] ", SeenShape(tensor, true)), "");
      }
    }
  }

  void DeclareSources() {
    for (int id : g_.graph_inputs()) {
      const TensorInfo& t = g_.tensor(id);
      Line(absl::StrCat(
          Quote(Endpoint(id, -1)), " [shape=ellipse, label=",
          Quote(absl::StrCat(t.name, "\n", DataType_Name(t.dtype), " ", ShapeToString(t.shape))),
          "];"));
    }
    for (const ParamInfo& p : g_.params()) {
      Line(absl::StrCat(Quote(Endpoint(p.tensor, -1)),
                        " [shape=box, fontsize=8, height=0.2, margin=\"0.04,0.02\", label=",
                        Quote(absl::StrCat(p.name, "\n", ShapeToString(p.shape))), "];"));
    }
    if (T_ > 0) return;  // the unrolled view draws initial values instead
    for (const StateInfo& s : g_.states()) {
      const TensorInfo& t = g_.tensor(s.tensor);
      Line(absl::StrCat(Quote(Endpoint(s.tensor, -1)),
                        " [shape=box, style=\"rounded,dashed\", label=",
                        Quote(absl::StrCat("state ", t.name, "\n", ShapeToString(t.shape))), "];"));
    }
  }

  void DeclareNode(const NodeInfo& n, int64_t step) {
    std::string label = n.def->name();
    if (step >= 0) absl::StrAppend(&label, " [t=", step, "]");
    absl::StrAppend(&label, "\n", n.def->op(), IsFused(n) && step >= 0 ? " cell" : "");
    const std::string attrs = KeyAttrs(n);
    if (!attrs.empty()) absl::StrAppend(&label, "\n", attrs);
    if (T_ > 0 && step < 0) {
      for (int out : n.outputs) {
        if (g_.tensor(out).time == TimeKind::kSequence) {
          absl::StrAppend(&label, "\nx T (batched over t)");
          break;
        }
      }
    }
    const bool is_loss = n.schema->is_loss();
    Line(absl::StrCat(Quote(NodeId(n, step)),
                      " [shape=box, style=", Quote(is_loss ? "rounded,filled" : "rounded"),
                      is_loss ? ", fillcolor=\"mistyrose\"" : "", ", label=", Quote(label), "];"));
  }

  void DeclareSinks() {
    for (size_t i = 0; i < g_.outputs().size(); ++i) {
      Line(absl::StrCat(Quote(absl::StrCat("output:", i)), " [shape=plaintext, label=",
                        Quote(absl::StrCat("output ", g_.tensor(g_.outputs()[i]).name)), "];"));
    }
    if (g_.loss() >= 0) {
      Line(absl::StrCat(Quote("loss:"), " [shape=plaintext, label=",
                        Quote(absl::StrCat("minimised loss ", g_.tensor(g_.loss()).name)), "];"));
    }
  }

  // Edges into the output and loss sinks; per-step producers of step
  // tensors feed them from every step.
  void SinkEdges(int64_t T) {
    auto edges_to = [&](int tensor, const std::string& sink) {
      const TensorInfo& t = g_.tensor(tensor);
      if (T <= 0 || !PerStepProducer(tensor)) {
        Edge(Endpoint(tensor, -1), sink, EdgeLabel(tensor, false), "");
      } else if (t.time == TimeKind::kStatic) {
        Edge(Endpoint(tensor, T - 1), sink, EdgeLabel(tensor, false), "");
      } else {
        for (int64_t s = 0; s < T; ++s) {
          Edge(Endpoint(tensor, s), sink,
               absl::StrCat(OutputPrefix(tensor), "[t=", s, "] ", SeenShape(tensor, true)), "");
        }
      }
    };
    for (size_t i = 0; i < g_.outputs().size(); ++i) {
      const TensorInfo& t = g_.tensor(g_.outputs()[i]);
      if (T > 0 && t.source == TensorSource::kState) {
        // A state read as an output: its value at step t is the update at t-1.
        edges_to(g_.states()[t.index].update, absl::StrCat("output:", i));
        continue;
      }
      edges_to(g_.outputs()[i], absl::StrCat("output:", i));
    }
    if (g_.loss() >= 0) edges_to(g_.loss(), "loss:");
  }

  const Graph& g_;
  int64_t T_ = 0;  // 0 in the rolled view
  int indent_ = 0;
  std::string out_;
};

}  // namespace

std::string RolledDot(const Graph& graph) { return DotExporter(graph).Rolled(); }

absl::StatusOr<std::string> UnrolledDot(const Graph& graph, int64_t T) {
  if (T < 1 || T > kMaxUnrolledSteps) {
    return absl::InvalidArgumentError(
        absl::StrCat("unrolled graph: T must be in [1, ", kMaxUnrolledSteps, "]; got ", T,
                     T > kMaxUnrolledSteps ? " (too many steps to draw)" : ""));
  }
  return DotExporter(graph).Unrolled(T);
}

}  // namespace rnnflow
