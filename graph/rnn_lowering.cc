#include "rnnflow/graph/rnn_lowering.h"

#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

bool IsFusedRecurrent(const std::string& op) { return op == "LSTM" || op == "GRU" || op == "RNN"; }

// Appends nodes to a ModelDef with unique, prefixed names.
class CellWriter {
 public:
  CellWriter(ModelDef& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  std::string Node(const std::string& name, const std::string& op, std::vector<std::string> inputs,
                   std::vector<std::pair<std::string, AttrValue>> attrs = {}) {
    NodeDef* n = out_.add_node();
    n->set_name(name.empty() ? absl::StrCat(prefix_, "/n", counter_++) : name);
    n->set_op(op);
    for (auto& in : inputs) n->add_input(in);
    for (auto& [k, v] : attrs) (*n->mutable_attr())[k] = v;
    return n->name();
  }
  std::string Op(const std::string& op, std::vector<std::string> inputs) {
    return Node("", op, std::move(inputs));
  }
  // Columns [begin, begin + size) of the last axis.
  std::string Cols(const std::string& x, int64_t begin, int64_t size) {
    return Node("", "Slice", {x},
                {{"axis", IntAttr(-1)}, {"begin", IntAttr(begin)}, {"size", IntAttr(size)}});
  }
  void Param(const std::string& name, Shape shape, const InitializerDef& init) {
    ParamDef* p = out_.add_param();
    p->set_name(name);
    for (int64_t d : shape) p->add_shape(d);
    *p->mutable_init() = init;
  }
  void State(const std::string& name, int64_t H, const std::string& update) {
    StateDef* s = out_.add_state();
    s->set_name(name);
    s->add_dim("N");
    s->add_dim(absl::StrCat(H));
    s->set_update(update);
  }
  const std::string& prefix() const { return prefix_; }

 private:
  ModelDef& out_;
  std::string prefix_;
  int counter_ = 0;
};

struct CellSpec {
  std::string op;
  std::string activation;    // RNN
  bool linear_before_reset;  // GRU
  int64_t H;
};

// One direction of one layer over `x` ([T, N, I]); returns the name of its
// [T, N, H] output (in natural time order).
std::string LowerLayerDirection(CellWriter& w, const CellSpec& c, const std::string& x,
                                int64_t in_width, const InitializerDef& init, bool reverse) {
  const std::string& P = w.prefix();
  const int64_t H = c.H;
  const int64_t G = c.op == "LSTM" ? 4 : (c.op == "GRU" ? 3 : 1);
  const bool lbr = c.op == "GRU" && c.linear_before_reset;
  w.Param(P + "/w_x", {in_width, G * H}, init);
  w.Param(P + "/w_h", {H, G * H}, init);
  w.Param(P + "/b", {(lbr ? G + 1 : G) * H}, init);

  const std::string xd = reverse ? w.Op("ReverseTime", {x}) : x;
  const std::string h = P + "/h", h_t = P + "/h_t";
  const std::string gx = w.Op("MatMul", {xd, P + "/w_x"});
  std::string bias = P + "/b";
  if (lbr) bias = w.Cols(P + "/b", 0, 3 * H);
  const std::string gxb = w.Op("Add", {gx, bias});
  w.State(h, H, h_t);

  if (c.op == "RNN") {
    const std::string gh = w.Op("MatMul", {h, P + "/w_h"});
    w.Node(h_t, c.activation == "relu" ? "Relu" : "Tanh", {w.Op("Add", {gxb, gh})});
  } else if (c.op == "LSTM") {
    const std::string c_prev = P + "/c", c_t = P + "/c_t";
    w.State(c_prev, H, c_t);
    const std::string g = w.Op("Add", {gxb, w.Op("MatMul", {h, P + "/w_h"})});
    const std::string i = w.Op("Sigmoid", {w.Cols(g, 0, H)});
    const std::string f = w.Op("Sigmoid", {w.Cols(g, H, H)});
    const std::string cc = w.Op("Tanh", {w.Cols(g, 2 * H, H)});
    const std::string o = w.Op("Sigmoid", {w.Cols(g, 3 * H, H)});
    w.Node(c_t, "Add", {w.Op("Mul", {f, c_prev}), w.Op("Mul", {i, cc})});
    w.Node(h_t, "Mul", {o, w.Op("Tanh", {c_t})});
  } else {  // GRU: u (update), r (reset), o (candidate)
    std::string gh_ur, o_pre;
    if (lbr) {
      const std::string gh = w.Op("MatMul", {h, P + "/w_h"});
      gh_ur = w.Cols(gh, 0, 2 * H);
      const std::string r_pre = w.Op("Add", {w.Cols(gxb, H, H), w.Cols(gh_ur, H, H)});
      const std::string r = w.Op("Sigmoid", {r_pre});
      const std::string gh_o = w.Op("Add", {w.Cols(gh, 2 * H, H), w.Cols(P + "/b", 3 * H, H)});
      o_pre = w.Op("Add", {w.Cols(gxb, 2 * H, H), w.Op("Mul", {r, gh_o})});
    } else {
      gh_ur = w.Op("MatMul", {h, w.Cols(P + "/w_h", 0, 2 * H)});
      const std::string r =
          w.Op("Sigmoid", {w.Op("Add", {w.Cols(gxb, H, H), w.Cols(gh_ur, H, H)})});
      const std::string rh = w.Op("MatMul", {w.Op("Mul", {r, h}), w.Cols(P + "/w_h", 2 * H, H)});
      o_pre = w.Op("Add", {w.Cols(gxb, 2 * H, H), rh});
    }
    const std::string u = w.Op("Sigmoid", {w.Op("Add", {w.Cols(gxb, 0, H), w.Cols(gh_ur, 0, H)})});
    const std::string o = w.Op("Tanh", {o_pre});
    // h_t = u * h + (1 - u) * o = o + u * (h - o)
    w.Node(h_t, "Add", {o, w.Op("Mul", {u, w.Op("Sub", {h, o})})});
  }
  return reverse ? w.Op("ReverseTime", {h_t}) : h_t;
}

}  // namespace

absl::StatusOr<ModelDef> LowerRecurrentLayers(const ModelDef& model) {
  ModelDef out = model;
  out.clear_node();
  for (const NodeDef& node : model.node()) {
    for (const NodeDef& other : model.node()) {
      for (const std::string& in : other.input()) {
        if (absl::StartsWith(in, node.name() + ":") && IsFusedRecurrent(node.op()) &&
            in != node.name() + ":0" && in != node.name() + ":y") {
          return absl::UnimplementedError(absl::StrCat(
              "node '", other.name(), "' reads '", in, "'; the reference lowering of node '",
              node.name(), "' (", node.op(), ") provides only its output y"));
        }
      }
    }
    if (!IsFusedRecurrent(node.op())) {
      *out.add_node() = node;
      continue;
    }
    if (node.input_size() != 1) {
      return absl::UnimplementedError(absl::StrCat(
          "node '", node.name(), "' (", node.op(),
          "): the reference lowering supports only unconnected initial states, lengths and "
          "resets (tests/rnn_lengths_test.cc checks those against sequences run alone)"));
    }
    const OpSchema* schema = OpRegistry::Global().Find(node.op());
    auto attr = [&](const std::string& name) -> AttrValue {
      auto it = node.attr().find(name);
      if (it != node.attr().end()) return it->second;
      const AttrSpec* spec = schema ? schema->FindAttr(name) : nullptr;
      return spec ? spec->default_value : AttrValue();
    };
    CellSpec c{node.op(), attr("activation").s(), attr("linear_before_reset").b(),
               attr("hidden").i()};
    const int64_t layers = std::max<int64_t>(1, attr("layers").i());
    const bool bidirectional = attr("direction").s() == "bidirectional";
    // The input width is known only after shape inference; the caller's
    // graph gives it through the first layer's parameter, so read it from
    // the declared input when possible.
    int64_t in_width = -1;
    for (const InputDef& in : model.input()) {
      if (in.name() == node.input(0) && in.dim_size() > 0) {
        if (!absl::SimpleAtoi(in.dim(in.dim_size() - 1), &in_width)) in_width = -1;
      }
    }
    for (const NodeDef& other : model.node()) {
      if (other.name() == node.input(0) && other.attr().count("units")) {
        in_width = other.attr().at("units").i();
      }
      if (other.name() == node.input(0) && other.attr().count("dim")) {
        in_width = other.attr().at("dim").i();
      }
    }
    if (in_width <= 0) {
      return absl::UnimplementedError(absl::StrCat(
          "node '", node.name(), "': the reference lowering needs the input width of '",
          node.input(0), "' (a graph input, Embedding or Dense)"));
    }
    const InitializerDef init = MakeInit("uniform", 1.f / std::sqrt(static_cast<float>(c.H)));
    std::string x = node.input(0);
    for (int64_t l = 0; l < layers; ++l) {
      const std::string base = absl::StrCat(node.name(), "/l", l);
      CellWriter fwd(out, base);
      const std::string y_fwd = LowerLayerDirection(fwd, c, x, in_width, init, false);
      std::vector<std::string> parts = {y_fwd};
      if (bidirectional) {
        CellWriter bwd(out, base + "_reverse");
        parts.push_back(LowerLayerDirection(bwd, c, x, in_width, init, true));
      }
      const bool last = l + 1 == layers;
      const std::string name = last ? node.name() : base + "/y";
      CellWriter join(out, base);
      x = join.Node(name, "Concat", parts, {{"axis", IntAttr(-1)}});
      in_width = (bidirectional ? 2 : 1) * c.H;
    }
  }
  return out;
}

}  // namespace rnnflow
