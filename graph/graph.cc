#include "rnnflow/graph/graph.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

SymShape TensorInfo::StackedShape() const {
  if (time != TimeKind::kStep) return shape;
  SymShape s{Dim::Symbol(time_symbol.empty() ? kDefaultTimeSymbol : time_symbol)};
  s.insert(s.end(), shape.begin(), shape.end());
  return s;
}

int Graph::FindTensor(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int64_t Graph::NumParameters() const {
  int64_t n = 0;
  for (const ParamInfo& p : params_) n += NumElements(p.shape);
  return n;
}

// Builds a Graph; one instance per Build call.
class GraphBuilderImpl {
 public:
  GraphBuilderImpl(const ModelDef& model, const SourceMap& source, const GraphOptions& options)
      : options_(options) {
    g_.model_ = model;
    g_.source_ = source;
  }

  absl::StatusOr<Graph> Run() {
    RF_RETURN_IF_ERROR(CheckHeader());
    RF_RETURN_IF_ERROR(DeclareInputs());
    RF_RETURN_IF_ERROR(DeclareParams());
    RF_RETURN_IF_ERROR(DeclareStates());
    RF_RETURN_IF_ERROR(DeclareNodes());
    RF_RETURN_IF_ERROR(ResolveNodeInputs());
    RF_RETURN_IF_ERROR(ResolveStates());
    RF_RETURN_IF_ERROR(TopologicalOrder());
    RF_RETURN_IF_ERROR(FindRecurrentRegion());
    RF_RETURN_IF_ERROR(InferShapes());
    RF_RETURN_IF_ERROR(CheckStates());
    RF_RETURN_IF_ERROR(ResolveOutputsAndLoss());
    RF_RETURN_IF_ERROR(CheckTraining());
    MarkGradients();
    BuildSchedule();
    return std::move(g_);
  }

 private:
  const SourceMap& src() const { return g_.source_; }
  const ModelDef& model() const { return g_.model_; }

  absl::Status Error(SourceLocation loc, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(src().Prefix(loc), message));
  }
  std::string NodeLabel(int n) const {
    const NodeDef& d = model().node(n);
    return absl::StrCat("node '", d.name(), "' (", d.op(), "): ");
  }
  absl::Status NodeError(int n, SourceLocation loc, absl::string_view message) const {
    return Error(loc.known() ? loc : src().Node(n), absl::StrCat(NodeLabel(n), message));
  }

  // "x", or "values[2]" for the variadic last input.
  static std::string SchemaInputName(const std::vector<ArgSpec>& specs, int k) {
    const int last = static_cast<int>(specs.size()) - 1;
    if (last >= 0 && k >= last && specs[last].variadic) {
      return absl::StrCat(specs[last].name, "[", k - last, "]");
    }
    return k <= last ? specs[k].name : absl::StrCat("#", k);
  }

  static bool ValidName(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name) {
      if (!(absl::ascii_isalnum(c) || c == '_' || c == '/' || c == '.' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  absl::Status ClaimName(const std::string& name, SourceLocation loc, absl::string_view what) {
    if (!ValidName(name)) {
      return Error(loc, absl::StrCat(what, " name '", name,
                                     "' is invalid: use letters, digits, '_', '/', "
                                     "'.' or '-'"));
    }
    auto [it, inserted] = owners_.emplace(name, std::make_pair(std::string(what), loc));
    if (!inserted) {
      const SourceLocation first = it->second.second;
      return Error(
          loc,
          absl::StrCat("duplicate name '", name, "': already used by a ", it->second.first,
                       first.known() ? absl::StrCat(" (line ", first.line, ")") : std::string()));
    }
    return absl::OkStatus();
  }

  int AddTensor(TensorInfo t) {
    int id = static_cast<int>(g_.tensors_.size());
    g_.by_name_[t.name] = id;
    g_.tensors_.push_back(std::move(t));
    return id;
  }

  absl::Status CheckHeader() {
    if (model().format_version() != 0 && model().format_version() != 1) {
      return Error({}, absl::StrCat("format_version ", model().format_version(),
                                    " is not supported; this rnnflow reads version 1"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<SymShape> ParseDims(const google::protobuf::RepeatedPtrField<std::string>& dims,
                                     const EntrySource* es, absl::string_view what) {
    SymShape shape;
    for (int k = 0; k < dims.size(); ++k) {
      SourceLocation loc =
          es && k < static_cast<int>(es->dims.size()) ? es->dims[k] : SourceLocation{};
      if (!loc.known() && es != nullptr) loc = es->entry;
      const std::string& d = dims[k];
      int64_t v = 0;
      if (absl::SimpleAtoi(d, &v)) {
        if (v <= 0) {
          return Error(loc, absl::StrCat(what, ": dimension ", k, " must be positive; got ", d));
        }
        shape.push_back(Dim::Known(v));
      } else if (!d.empty() && absl::ascii_isalpha(d[0]) &&
                 std::all_of(d.begin(), d.end(),
                             [](char c) { return absl::ascii_isalnum(c) || c == '_'; })) {
        shape.push_back(Dim::Symbol(d));
      } else {
        return Error(loc, absl::StrCat(what, ": dimension ", k, " is '", d,
                                       "'; expected a positive integer or a symbol like T"));
      }
    }
    return shape;
  }

  const EntrySource* EntryAt(const std::vector<EntrySource>& v, int i) {
    return i < static_cast<int>(v.size()) ? &v[i] : nullptr;
  }

  // A graph input's leading dimension is its time axis when it is "T" or
  // another symbol followed by the batch "N" (time-major [S, N, ...], e.g. a
  // pairs model's source). "T" is always a time symbol (ops may create it).
  absl::Status DeclareInputs() {
    SourceMap& sm = g_.source_;
    g_.time_symbols_ = {kDefaultTimeSymbol};
    for (int i = 0; i < model().input_size(); ++i) {
      const InputDef& in = model().input(i);
      SourceLocation loc = sm.Input(i);
      RF_RETURN_IF_ERROR(ClaimName(in.name(), loc, "graph input"));
      const std::string what = absl::StrCat("graph input '", in.name(), "'");
      if (in.dtype() == DT_INVALID) {
        return Error(loc, absl::StrCat(what, " has no dtype; expected FLOAT32 or INT32"));
      }
      if (in.dim_size() == 0) {
        return Error(loc, absl::StrCat(what, " has no dims; expected e.g. dim: [\"T\", \"N\"]"));
      }
      RF_ASSIGN_OR_RETURN(SymShape shape, ParseDims(in.dim(), EntryAt(sm.inputs(), i), what));
      TensorInfo t;
      t.name = in.name();
      t.shape = shape;
      t.dtype = in.dtype();
      const bool time_major = shape.size() >= 2 && shape[1] == Dim::Symbol("N");
      if (!shape[0].known() && shape[0].symbol != "N" &&
          (shape[0].symbol == kDefaultTimeSymbol || time_major)) {
        t.time = TimeKind::kSequence;
        t.time_symbol = shape[0].symbol;
        if (!IsTimeSymbol(t.time_symbol)) g_.time_symbols_.push_back(t.time_symbol);
      } else {
        t.time = TimeKind::kStatic;
      }
      t.source = TensorSource::kGraphInput;
      t.index = i;
      g_.graph_inputs_.push_back(AddTensor(std::move(t)));
    }
    return absl::OkStatus();
  }

  bool IsTimeSymbol(const std::string& symbol) const {
    return std::find(g_.time_symbols_.begin(), g_.time_symbols_.end(), symbol) !=
           g_.time_symbols_.end();
  }

  // The recurrence group a per-step tensor belongs to (its producer's, or
  // for a state its update's producer's).
  int GroupOf(int tensor) const {
    const TensorInfo& t = g_.tensors_[tensor];
    const int p =
        t.source == TensorSource::kState ? Producer(g_.states_[t.index].update) : Producer(tensor);
    return p >= 0 ? group_[p] : -1;
  }

  // The time symbol of a recurrence group: that of the sequences its nodes
  // read, or "T" when they read none.
  std::string GroupTime(int group) {
    std::string& s = group_time_[group];
    if (s.empty()) s = kDefaultTimeSymbol;
    return s;
  }

  // The time axis of tensor t ("" for static tensors).
  std::string TimeOf(int t) {
    const TensorInfo& ti = g_.tensors_[t];
    if (ti.time == TimeKind::kSequence) return ti.time_symbol;
    if (ti.time == TimeKind::kStep) return GroupTime(GroupOf(t));
    return "";
  }

  static bool KnownInit(const std::string& kind) {
    static const std::set<std::string> kKinds = {"",        "zeros",  "ones",          "constant",
                                                 "uniform", "normal", "glorot_uniform"};
    return kKinds.count(kind) > 0;
  }

  absl::Status DeclareParams() {
    for (int i = 0; i < model().param_size(); ++i) {
      const ParamDef& p = model().param(i);
      SourceLocation loc = src().Param(i);
      RF_RETURN_IF_ERROR(ClaimName(p.name(), loc, "parameter"));
      if (p.shape_size() == 0) {
        return Error(loc, absl::StrCat("parameter '", p.name(), "' has no shape"));
      }
      for (int k = 0; k < p.shape_size(); ++k) {
        if (p.shape(k) <= 0) {
          const EntrySource* es = EntryAt(g_.source_.params(), i);
          const SourceLocation at =
              es && k < static_cast<int>(es->dims.size()) && es->dims[k].known() ? es->dims[k]
                                                                                 : loc;
          return Error(
              at, absl::StrCat("parameter '", p.name(), "': dimension ", k,
                               " must be positive; got [", absl::StrJoin(p.shape(), ","), "]"));
        }
      }
      if (!KnownInit(p.init().kind())) {
        return Error(
            loc, absl::StrCat("parameter '", p.name(), "': unknown initializer '", p.init().kind(),
                              "'; expected zeros, ones, constant, uniform, normal, "
                              "or glorot_uniform"));
      }
      Shape shape(p.shape().begin(), p.shape().end());
      AddParam(p.name(), shape, p.init());
    }
    return absl::OkStatus();
  }

  int AddParam(const std::string& name, const Shape& shape, const InitializerDef& init) {
    TensorInfo t;
    t.name = name;
    for (int64_t d : shape) t.shape.push_back(Dim::Known(d));
    t.time = TimeKind::kStatic;
    t.source = TensorSource::kParam;
    t.index = static_cast<int>(g_.params_.size());
    t.requires_grad = true;
    int id = AddTensor(std::move(t));
    g_.params_.push_back(ParamInfo{name, shape, init, id});
    return id;
  }

  absl::Status DeclareStates() {
    SourceMap& sm = g_.source_;
    for (int i = 0; i < model().state_size(); ++i) {
      const StateDef& s = model().state(i);
      SourceLocation loc = sm.State(i);
      RF_RETURN_IF_ERROR(ClaimName(s.name(), loc, "state"));
      const std::string what = absl::StrCat("state '", s.name(), "'");
      if (s.dim_size() == 0) {
        return Error(loc, absl::StrCat(what,
                                       " has no dims; expected its per-step shape, "
                                       "e.g. dim: [\"N\", \"16\"]"));
      }
      RF_ASSIGN_OR_RETURN(SymShape shape, ParseDims(s.dim(), EntryAt(sm.states(), i), what));
      if (s.update().empty()) {
        return Error(loc, absl::StrCat(what,
                                       " has no update: name the tensor that becomes "
                                       "the state at the next step"));
      }
      TensorInfo t;
      t.name = s.name();
      t.shape = shape;
      t.time = TimeKind::kStep;
      t.source = TensorSource::kState;
      t.index = i;
      StateInfo info;
      info.name = s.name();
      info.tensor = AddTensor(std::move(t));
      g_.states_.push_back(info);
    }
    return absl::OkStatus();
  }

  absl::Status CheckAttrs(int n, NodeDef& node, const OpSchema& schema) {
    for (const auto& [key, value] : node.attr()) {
      const AttrSpec* spec = schema.FindAttr(key);
      SourceLocation loc = src().NodeAttr(n, key);
      if (spec == nullptr) {
        std::vector<std::string> names;
        for (const AttrSpec& a : schema.attrs()) names.push_back(a.name);
        return NodeError(
            n, loc,
            absl::StrCat("unknown attribute '", key, "'; ", schema.name(),
                         names.empty() ? " has no attributes"
                                       : absl::StrCat(" has: ", absl::StrJoin(names, ", "))));
      }
      if (!AttrHasType(value, spec->type)) {
        return NodeError(n, loc,
                         absl::StrCat("attribute '", key, "' must be ", AttrTypeName(spec->type),
                                      "; got ", AttrValueToString(value)));
      }
      if (!spec->allowed_values.empty() &&
          std::find(spec->allowed_values.begin(), spec->allowed_values.end(), value.s()) ==
              spec->allowed_values.end()) {
        return NodeError(n, loc,
                         absl::StrCat("attribute '", key, "' must be one of \"",
                                      absl::StrJoin(spec->allowed_values, "\", \""), "\"; got \"",
                                      value.s(), "\""));
      }
    }
    for (const AttrSpec& spec : schema.attrs()) {
      if (node.attr().count(spec.name)) {
        // Normalise integer literals given for float attributes.
        AttrValue& v = (*node.mutable_attr())[spec.name];
        if (spec.type == AttrType::kFloat && v.value_case() == AttrValue::kI) {
          v.set_f(static_cast<float>(v.i()));
        }
        continue;
      }
      if (spec.required) {
        return NodeError(n, {},
                         absl::StrCat("missing required attribute '", spec.name, "' (",
                                      AttrTypeName(spec.type), "): ", spec.doc));
      }
      (*node.mutable_attr())[spec.name] = spec.default_value;
    }
    return absl::OkStatus();
  }

  absl::Status DeclareNodes() {
    g_.nodes_.resize(model().node_size());
    for (int n = 0; n < model().node_size(); ++n) {
      NodeDef& node = *g_.model_.mutable_node(n);
      SourceLocation loc = src().Node(n);
      if (node.name().empty()) {
        return Error(loc, absl::StrCat("node #", n, " (", node.op(), ") has no name"));
      }
      RF_RETURN_IF_ERROR(ClaimName(node.name(), loc, "node"));
      const OpSchema* schema = OpRegistry::Global().Find(node.op());
      if (schema == nullptr) {
        return Error(
            src().NodeOp(n),
            absl::StrCat("node '", node.name(), "': unknown op '", node.op(),
                         "'; known ops: ", absl::StrJoin(OpRegistry::Global().Names(), ", ")));
      }
      RF_RETURN_IF_ERROR(CheckAttrs(n, node, *schema));
      NodeInfo& info = g_.nodes_[n];
      info.def = &node;
      info.schema = schema;
      info.index = n;
      // Outputs; their shapes come later from the shape function.
      for (size_t k = 0; k < schema->outputs().size(); ++k) {
        TensorInfo t;
        t.name = k == 0 ? node.name() : absl::StrCat(node.name(), ":", k);
        t.source = TensorSource::kNodeOutput;
        t.index = n;
        t.output = static_cast<int>(k);
        int id = AddTensor(std::move(t));
        if (k == 0) g_.by_name_[absl::StrCat(node.name(), ":0")] = id;
        const std::string& out_name = schema->outputs()[k].name;
        g_.by_name_[absl::StrCat(node.name(), ":", out_name)] = id;
        info.outputs.push_back(id);
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Resolve(const std::string& ref, SourceLocation loc,
                              absl::string_view context) {
    int id = g_.FindTensor(ref);
    if (id >= 0) return id;
    std::vector<std::string> parts = absl::StrSplit(ref, ':');
    int base = g_.FindTensor(parts[0]);
    if (parts.size() == 2 && base >= 0 && g_.tensors_[base].source == TensorSource::kNodeOutput) {
      const NodeInfo& producer = g_.nodes_[g_.tensors_[base].index];
      std::vector<std::string> outs;
      for (size_t k = 0; k < producer.schema->outputs().size(); ++k) {
        outs.push_back(absl::StrCat(k, " (", producer.schema->outputs()[k].name, ")"));
      }
      return Error(loc, absl::StrCat(context, "'", ref, "': node '", parts[0], "' (",
                                     producer.def->op(), ") has no output '", parts[1],
                                     "'; its outputs are ", absl::StrJoin(outs, ", ")));
    }
    return Error(loc, absl::StrCat(context, "'", ref,
                                   "' is not a graph input, parameter, state or node output"));
  }

  absl::Status ResolveNodeInputs() {
    for (int n = 0; n < model().node_size(); ++n) {
      NodeInfo& info = g_.nodes_[n];
      const NodeDef& node = *info.def;
      const auto& specs = info.schema->inputs();
      const bool variadic = !specs.empty() && specs.back().variadic;
      const int given = node.input_size();
      const int max_inputs = variadic ? INT32_MAX : static_cast<int>(specs.size());
      if (given > max_inputs) {
        return NodeError(
            n, src().NodeInput(n, max_inputs),
            absl::StrCat("takes at most ", specs.size(), " input", specs.size() == 1 ? "" : "s",
                         " (",
                         absl::StrJoin(specs, ", ",
                                       [](std::string* o, const ArgSpec& a) { o->append(a.name); }),
                         "); got ", given));
      }
      for (size_t k = 0; k < specs.size(); ++k) {
        if (static_cast<int>(k) >= given && !specs[k].optional) {
          return NodeError(
              n, {},
              absl::StrCat("missing input '", specs[k].name, "' (input ", k, "): ", specs[k].doc));
        }
      }
      const int slots = variadic ? given : static_cast<int>(specs.size());
      info.inputs.assign(slots, -1);
      for (int k = 0; k < given; ++k) {
        if (node.input(k).empty()) {
          if (static_cast<size_t>(k) < specs.size() && specs[k].optional) continue;
          return NodeError(n, src().NodeInput(n, k),
                           absl::StrCat("input ", k, " ('", SchemaInputName(specs, k),
                                        "') is empty; only optional inputs may be left empty"));
        }
        RF_ASSIGN_OR_RETURN(info.inputs[k], Resolve(node.input(k), src().NodeInput(n, k),
                                                    absl::StrCat(NodeLabel(n), "input ")));
      }
      info.num_declared_inputs = slots;
      for (const auto& [state_in, state_out] : info.schema->carried_states()) {
        int in = info.schema->FindInput(state_in);
        int out = info.schema->FindOutput(state_out);
        if (in >= 0 && out >= 0 && info.inputs[in] < 0) info.carried.emplace_back(in, out);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ResolveStates() {
    for (int i = 0; i < model().state_size(); ++i) {
      const StateDef& s = model().state(i);
      StateInfo& st = g_.states_[i];
      RF_ASSIGN_OR_RETURN(st.update, Resolve(s.update(), src().StateUpdate(i),
                                             absl::StrCat("state '", s.name(), "': update ")));
      if (!s.init().empty()) {
        RF_ASSIGN_OR_RETURN(st.init, Resolve(s.init(), src().StateInit(i),
                                             absl::StrCat("state '", s.name(), "': init ")));
      }
    }
    return absl::OkStatus();
  }

  int Producer(int tensor) const {
    const TensorInfo& t = g_.tensors_[tensor];
    return t.source == TensorSource::kNodeOutput ? t.index : -1;
  }

  absl::Status TopologicalOrder() {
    const int n_nodes = model().node_size();
    std::vector<std::vector<int>> consumers(n_nodes);
    std::vector<int> indegree(n_nodes, 0);
    for (int n = 0; n < n_nodes; ++n) {
      std::set<int> deps;
      for (int t : g_.nodes_[n].inputs) {
        if (t >= 0 && Producer(t) >= 0) deps.insert(Producer(t));
      }
      for (int d : deps) {
        consumers[d].push_back(n);
        ++indegree[n];
      }
    }
    std::deque<int> ready;
    for (int n = 0; n < n_nodes; ++n) {
      if (indegree[n] == 0) ready.push_back(n);
    }
    while (!ready.empty()) {
      int n = ready.front();
      ready.pop_front();
      topo_.push_back(n);
      for (int c : consumers[n]) {
        if (--indegree[c] == 0) ready.push_back(c);
      }
    }
    if (static_cast<int>(topo_.size()) == n_nodes) return absl::OkStatus();
    // Report one cycle: walk producers among the unsorted nodes.
    int start = -1;
    for (int n = 0; n < n_nodes; ++n) {
      if (indegree[n] > 0) {
        start = n;
        break;
      }
    }
    std::vector<int> path;
    std::vector<int> seen(n_nodes, -1);
    int cur = start;
    while (seen[cur] < 0) {
      seen[cur] = static_cast<int>(path.size());
      path.push_back(cur);
      int next = -1;
      for (int t : g_.nodes_[cur].inputs) {
        int p = t >= 0 ? Producer(t) : -1;
        if (p >= 0 && indegree[p] > 0) {
          next = p;
          break;
        }
      }
      cur = next;
    }
    std::vector<int> cycle(path.begin() + seen[cur], path.end());
    std::reverse(cycle.begin(), cycle.end());
    std::vector<std::string> names;
    for (int c : cycle) names.push_back(model().node(c).name());
    names.push_back(model().node(cycle[0]).name());
    return NodeError(
        cycle[0], {},
        absl::StrCat("cycle not through a declared state: ", absl::StrJoin(names, " -> "),
                     "; a recurrence must read its previous value through a "
                     "`state` entry"));
  }

  absl::Status FindRecurrentRegion() {
    const int n_nodes = model().node_size();
    const int n_states = static_cast<int>(g_.states_.size());
    // A node is on the recurrence of state s when it depends on s's read and
    // s's update depends on it. Recurrences sharing a node form one group,
    // run step by step together.
    std::vector<int> group(n_nodes, -1);
    std::vector<int> parent(n_states);
    for (int s = 0; s < n_states; ++s) parent[s] = s;
    std::function<int(int)> find = [&](int x) {
      return parent[x] == x ? x : parent[x] = find(parent[x]);
    };
    for (int s = 0; s < n_states; ++s) {
      std::vector<bool> from_state(n_nodes, false), to_update(n_nodes, false);
      for (int n : topo_) {
        for (int t : g_.nodes_[n].inputs) {
          if (t < 0) continue;
          const TensorInfo& ti = g_.tensors_[t];
          if ((ti.source == TensorSource::kState && ti.index == s) ||
              (Producer(t) >= 0 && from_state[Producer(t)])) {
            from_state[n] = true;
          }
        }
      }
      if (Producer(g_.states_[s].update) >= 0) to_update[Producer(g_.states_[s].update)] = true;
      for (auto it = topo_.rbegin(); it != topo_.rend(); ++it) {
        if (!to_update[*it]) continue;
        for (int t : g_.nodes_[*it].inputs) {
          if (t >= 0 && Producer(t) >= 0) to_update[Producer(t)] = true;
        }
      }
      for (int n = 0; n < n_nodes; ++n) {
        if (!from_state[n] || !to_update[n]) continue;
        if (group[n] >= 0) parent[find(group[n])] = find(s);
        group[n] = s;
      }
    }
    for (int n = 0; n < n_nodes; ++n) {
      if (group[n] >= 0) group[n] = find(group[n]);
    }
    group_ = group;
    for (int n = 0; n < n_nodes; ++n) {
      g_.nodes_[n].recurrent = group[n] >= 0;
      if (g_.nodes_[n].recurrent && !g_.nodes_[n].schema->carried_states().empty()) {
        return NodeError(n, {},
                         "a fused recurrent layer cannot sit inside a custom "
                         "recurrence (it runs over whole sequences); build the "
                         "cell from primitive ops instead");
      }
    }
    for (int n = 0; n < n_nodes; ++n) {
      if (g_.nodes_[n].recurrent) continue;
      for (size_t k = 0; k < g_.nodes_[n].inputs.size(); ++k) {
        int t = g_.nodes_[n].inputs[k];
        if (t >= 0 && g_.tensors_[t].source == TensorSource::kState) {
          const StateInfo& s = g_.states_[g_.tensors_[t].index];
          return NodeError(n, src().NodeInput(n, static_cast<int>(k)),
                           absl::StrCat("reads state '", s.name,
                                        "' but does not lead to its update; outside the "
                                        "recurrence read the update '",
                                        g_.tensors_[s.update].name, "' instead"));
        }
      }
    }
    for (int i = 0; i < model().state_size(); ++i) {
      const StateInfo& s = g_.states_[i];
      int p = Producer(s.update);
      if (p < 0 || !g_.nodes_[p].recurrent) {
        return Error(src().StateUpdate(i),
                     absl::StrCat("state '", s.name, "': its update '", model().state(i).update(),
                                  "' does not depend on the state, so nothing recurs; the "
                                  "update must be computed from '",
                                  s.name, "'"));
      }
    }
    return absl::OkStatus();
  }

  // In unit order: every node of a recurrence group is inferred (and the
  // group's time axis decided) before any node outside it reads its values.
  absl::Status InferShapes() {
    OrderUnits();
    std::vector<int> order;
    for (const std::vector<int>& nodes : units_) {
      order.insert(order.end(), nodes.begin(), nodes.end());
    }
    for (int n : order) {
      NodeInfo& info = g_.nodes_[n];
      std::vector<SymShape> seen_shapes(info.inputs.size());
      std::vector<const SymShape*> shapes(info.inputs.size(), nullptr);
      std::vector<DataType> dtypes(info.inputs.size(), FLOAT32);
      for (size_t k = 0; k < info.inputs.size(); ++k) {
        int t = info.inputs[k];
        if (t < 0) continue;
        const TensorInfo& ti = g_.tensors_[t];
        if (info.recurrent) {
          if (ti.time == TimeKind::kSequence) {
            seen_shapes[k] = SymShape(ti.shape.begin() + 1, ti.shape.end());
          } else {
            seen_shapes[k] = ti.shape;
          }
        } else if (ti.time == TimeKind::kStep) {
          seen_shapes[k] = {Dim::Symbol(TimeOf(t))};
          seen_shapes[k].insert(seen_shapes[k].end(), ti.shape.begin(), ti.shape.end());
        } else {
          seen_shapes[k] = ti.shape;
        }
        shapes[k] = &seen_shapes[k];
        dtypes[k] = ti.dtype;
      }
      RF_RETURN_IF_ERROR(CheckOneTimeAxis(n));
      ShapeContext ctx(*info.schema, *info.def, shapes, dtypes);
      if (info.schema->shape_fn()) {
        absl::Status s = info.schema->shape_fn()(ctx);
        if (!s.ok()) {
          // Point at the input or attribute the message names first
          // ("input 'b' has shape ..., which must equal ... input 'a'").
          SourceLocation loc = src().Node(n);
          size_t first = absl::string_view::npos;
          auto consider = [&](const std::string& mention, SourceLocation at) {
            const size_t pos = absl::string_view(s.message()).find(mention);
            if (pos < first) {
              first = pos;
              loc = at;
            }
          };
          for (int k = 0; k < info.num_declared_inputs; ++k) {
            consider(absl::StrCat("input '", ctx.input_name(k), "'"), src().NodeInput(n, k));
          }
          for (const AttrSpec& a : info.schema->attrs()) {
            consider(absl::StrCat("attribute '", a.name, "'"), src().NodeAttr(n, a.name));
          }
          return NodeError(n, loc, s.message());
        }
      }
      for (size_t k = 0; k < info.outputs.size(); ++k) {
        TensorInfo& out = g_.tensors_[info.outputs[k]];
        out.shape = ctx.output_shapes()[k];
        out.dtype = ctx.output_dtypes()[k];
        if (info.recurrent) {
          out.time = TimeKind::kStep;
        } else if (!out.shape.empty() && !out.shape[0].known() &&
                   IsTimeSymbol(out.shape[0].symbol)) {
          out.time = TimeKind::kSequence;
          out.time_symbol = out.shape[0].symbol;
        } else {
          out.time = TimeKind::kStatic;
        }
      }
      for (const ParamSlot& p : ctx.params()) {
        std::string name = absl::StrCat(info.def->name(), "/", p.name);
        RF_RETURN_IF_ERROR(ClaimName(name, src().Node(n), "parameter"));
        info.inputs.push_back(AddParam(name, p.shape, p.init));
      }
    }
    // Per-step tensors (node outputs and states) run over their group's time.
    for (size_t t = 0; t < g_.tensors_.size(); ++t) {
      if (g_.tensors_[t].time == TimeKind::kStep) {
        const int group = GroupOf(static_cast<int>(t));
        g_.tensors_[t].time_symbol = group >= 0 ? GroupTime(group) : kDefaultTimeSymbol;
      }
    }
    return absl::OkStatus();
  }

  // Every time-carrying input of node n runs over one time axis: a node that
  // reads a source ([S, ...]) and a target ([T, ...]) sequence has no
  // step-by-step meaning. A recurrence group takes the axis of the sequences
  // its nodes read.
  absl::Status CheckOneTimeAxis(int n) {
    const NodeInfo& info = g_.nodes_[n];
    const int group = info.recurrent ? group_[n] : -1;
    std::string axis;
    int first = -1;
    if (group >= 0 && !group_time_[group].empty()) axis = group_time_[group];
    for (int k = 0; k < info.num_declared_inputs; ++k) {
      const int t = info.inputs[k];
      if (t < 0) continue;
      const TensorInfo& ti = g_.tensors_[t];
      if (ti.time == TimeKind::kStatic) continue;
      // Own-group per-step values share the group's axis by definition.
      if (group >= 0 && ti.time == TimeKind::kStep && GroupOf(t) == group) continue;
      const std::string sym = TimeOf(t);
      if (axis.empty()) {
        axis = sym;
        first = k;
        continue;
      }
      if (sym == axis) continue;
      const std::string other =
          first >= 0 ? absl::StrCat("input '", SchemaInputName(info.schema->inputs(), first),
                                    "' ('", g_.tensors_[info.inputs[first]].name, "')")
                     : "the recurrence it is on";
      return NodeError(
          n, src().NodeInput(n, k),
          absl::StrCat("input '", SchemaInputName(info.schema->inputs(), k), "' ('", ti.name,
                       "') runs over time axis ", sym, " but ", other, " runs over ", axis,
                       "; a node's sequence inputs must share one time axis (sequences over "
                       "different axes meet only through static tensors, e.g. final states)"));
    }
    if (group >= 0 && group_time_[group].empty() && !axis.empty()) group_time_[group] = axis;
    return absl::OkStatus();
  }

  absl::Status CheckStates() {
    for (int i = 0; i < model().state_size(); ++i) {
      const StateInfo& s = g_.states_[i];
      const TensorInfo& st = g_.tensors_[s.tensor];
      const TensorInfo& up = g_.tensors_[s.update];
      if (up.shape != st.shape) {
        return Error(src().StateUpdate(i),
                     absl::StrCat("state '", s.name, "' has per-step shape ",
                                  ShapeToString(st.shape), " but its update '", up.name,
                                  "' has per-step shape ", ShapeToString(up.shape)));
      }
      if (up.dtype != FLOAT32) {
        return Error(src().StateUpdate(i),
                     absl::StrCat("state '", s.name, "': update '", up.name, "' must be FLOAT32"));
      }
      if (s.init >= 0) {
        const TensorInfo& in = g_.tensors_[s.init];
        if (in.time != TimeKind::kStatic || in.shape != st.shape) {
          return Error(
              src().StateInit(i),
              absl::StrCat("state '", s.name, "': init '", in.name, "' has shape ",
                           ShapeToString(in.StackedShape()), "; expected the state's shape ",
                           ShapeToString(st.shape), " without a time axis"));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status ResolveOutputsAndLoss() {
    for (int i = 0; i < model().output_size(); ++i) {
      RF_ASSIGN_OR_RETURN(int t, Resolve(model().output(i), src().Output(i), "output "));
      g_.outputs_.push_back(t);
    }
    if (model().loss().empty()) {
      if (options_.require_loss) {
        std::vector<std::string> losses;
        for (const std::string& name : OpRegistry::Global().Names()) {
          if (OpRegistry::Global().Find(name)->is_loss()) losses.push_back(name);
        }
        return Error({}, absl::StrCat("model has no loss: set `loss:` to the output of a loss "
                                      "node (",
                                      absl::StrJoin(losses, ", "), ")"));
      }
      return absl::OkStatus();
    }
    RF_ASSIGN_OR_RETURN(g_.loss_, Resolve(model().loss(), src().Loss(), "loss "));
    const TensorInfo& t = g_.tensors_[g_.loss_];
    int p = Producer(g_.loss_);
    if (p < 0 || !g_.nodes_[p].schema->is_loss() || !t.shape.empty()) {
      return Error(
          src().Loss(),
          absl::StrCat("loss '", model().loss(), "' must be the scalar output of a loss op; got ",
                       p < 0 ? absl::StrCat(t.source == TensorSource::kGraphInput ? "graph input '"
                                            : t.source == TensorSource::kParam    ? "parameter '"
                                                                                  : "state '",
                                            t.name, "'")
                             : absl::StrCat("op ", g_.nodes_[p].def->op(), " with shape ",
                                            ShapeToString(t.StackedShape()))));
    }
    return absl::OkStatus();
  }

  absl::Status CheckTraining() {
    if (!model().has_training()) return absl::OkStatus();
    const TrainingDef& tr = model().training();
    SourceLocation loc = src().Training();
    for (const auto& [field, value] :
         {std::make_pair("truncation_steps", tr.truncation_steps()),
          std::make_pair("streams_per_worker", tr.streams_per_worker()),
          std::make_pair("steps", tr.steps()), std::make_pair("window", tr.window())}) {
      if (value < 0) {
        return Error(loc, absl::StrCat("training: ", field,
                                       " must be >= 0 (0 means the "
                                       "default); got ",
                                       value));
      }
    }
    if (tr.clip_global_norm() < 0) {
      return Error(loc, "training: clip_global_norm must be >= 0 (0 disables clipping)");
    }
    static const std::set<std::string> kSchedules = {"", "constant", "exponential", "step",
                                                     "cosine"};
    if (!kSchedules.count(tr.learning_rate().schedule())) {
      return Error(loc, absl::StrCat("training: unknown learning-rate schedule '",
                                     tr.learning_rate().schedule(),
                                     "'; expected constant, exponential, step or cosine"));
    }
    if (tr.learning_rate().base() < 0) {
      return Error(loc, "training: learning_rate.base must be >= 0");
    }
    return absl::OkStatus();
  }

  void MarkGradients() {
    // A tensor requires a gradient when it depends on a parameter through
    // differentiable inputs. States close loops, so iterate to a fixpoint.
    bool changed = true;
    while (changed) {
      changed = false;
      for (int n : topo_) {
        NodeInfo& info = g_.nodes_[n];
        bool any = false;
        for (size_t k = 0; k < info.inputs.size(); ++k) {
          int t = info.inputs[k];
          if (t < 0) continue;
          bool differentiable =
              static_cast<int>(k) >= info.num_declared_inputs ||
              info.schema->inputs()[std::min(k, info.schema->inputs().size() - 1)].differentiable;
          if (differentiable && g_.tensors_[t].requires_grad) any = true;
        }
        for (int out : info.outputs) {
          if (any && !g_.tensors_[out].requires_grad && g_.tensors_[out].dtype == FLOAT32) {
            g_.tensors_[out].requires_grad = true;
            changed = true;
          }
        }
      }
      for (const StateInfo& s : g_.states_) {
        bool req = g_.tensors_[s.update].requires_grad ||
                   (s.init >= 0 && g_.tensors_[s.init].requires_grad);
        if (req && !g_.tensors_[s.tensor].requires_grad) {
          g_.tensors_[s.tensor].requires_grad = true;
          changed = true;
        }
      }
    }
    // Nodes whose backward contributes to the loss.
    if (g_.loss_ < 0) return;
    std::vector<bool> needed(g_.tensors_.size(), false);
    needed[g_.loss_] = true;
    changed = true;
    while (changed) {
      changed = false;
      for (auto it = topo_.rbegin(); it != topo_.rend(); ++it) {
        NodeInfo& info = g_.nodes_[*it];
        bool out_needed = false;
        for (int out : info.outputs) out_needed |= needed[out];
        if (!out_needed) continue;
        bool has_grad_input = false;
        for (int t : info.inputs) {
          if (t >= 0 && g_.tensors_[t].requires_grad) {
            has_grad_input = true;
            if (!needed[t]) {
              needed[t] = true;
              changed = true;
            }
          }
        }
        info.needs_backward = has_grad_input;
      }
      for (const StateInfo& s : g_.states_) {
        if (needed[s.tensor] && !needed[s.update]) {
          needed[s.update] = true;
          changed = true;
        }
        if (needed[s.tensor] && s.init >= 0 && !needed[s.init]) {
          needed[s.init] = true;
          changed = true;
        }
      }
    }
  }

  // Cuts the schedule into segments, one per execution unit.
  void BuildSchedule() {
    for (const std::vector<int>& nodes : units_) {
      Segment seg;
      seg.begin = static_cast<int>(g_.schedule_.size());
      g_.schedule_.insert(g_.schedule_.end(), nodes.begin(), nodes.end());
      seg.end = static_cast<int>(g_.schedule_.size());
      seg.recurrent = g_.nodes_[nodes[0]].recurrent;
      if (seg.recurrent) seg.time_symbol = GroupTime(group_[nodes[0]]);
      g_.segments_.push_back(seg);
    }
  }

  // Execution units: each non-recurrent node alone, each recurrence group as
  // one unit (run step by step), in an order of their DAG (a node that depends
  // on a group and feeds it would itself be on the recurrence); each unit's
  // nodes in topological order.
  void OrderUnits() {
    const int n_nodes = model().node_size();
    std::vector<int> unit(n_nodes);
    std::map<int, int> group_unit;
    int n_units = 0;
    for (int n : topo_) {
      if (group_[n] < 0) {
        unit[n] = n_units++;
      } else {
        auto [it, inserted] = group_unit.emplace(group_[n], n_units);
        if (inserted) ++n_units;
        unit[n] = it->second;
      }
    }
    std::vector<std::set<int>> next(n_units);
    std::vector<int> indegree(n_units, 0);
    for (int n = 0; n < n_nodes; ++n) {
      for (int t : g_.nodes_[n].inputs) {
        int p = t >= 0 ? Producer(t) : -1;
        if (p >= 0 && unit[p] != unit[n] && next[unit[p]].insert(unit[n]).second) {
          ++indegree[unit[n]];
        }
      }
    }
    std::vector<int> order;
    std::set<int> ready;
    for (int u = 0; u < n_units; ++u) {
      if (indegree[u] == 0) ready.insert(u);
    }
    while (!ready.empty()) {
      int u = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(u);
      for (int v : next[u]) {
        if (--indegree[v] == 0) ready.insert(v);
      }
    }
    for (int u : order) {
      units_.emplace_back();
      for (int n : topo_) {
        if (unit[n] == u) units_.back().push_back(n);
      }
    }
  }

  GraphOptions options_;
  Graph g_;
  std::vector<int> topo_;
  std::vector<int> group_;               // recurrence group of each node, -1 if none
  std::vector<std::vector<int>> units_;  // OrderUnits()
  // Time symbol of each recurrence group (by group id; "" until decided).
  absl::flat_hash_map<int, std::string> group_time_;
  // Who owns each name, and where.
  absl::flat_hash_map<std::string, std::pair<std::string, SourceLocation>> owners_;
};

absl::StatusOr<Graph> Graph::Build(const ModelDef& model, const SourceMap& source,
                                   const GraphOptions& options) {
  return GraphBuilderImpl(model, source, options).Run();
}

}  // namespace rnnflow
