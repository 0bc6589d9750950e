// Building models in C++. A GraphBuilder produces exactly the ModelDef that
// the equivalent .pbtxt file parses to (ModelToText writes it out), and
// validates it against the op registry on Build():
//
//   GraphBuilder b("char_lm");
//   TensorRef tokens = b.Input("tokens", INT32, {"T", "N"}, TOKENS);
//   TensorRef targets = b.Input("targets", INT32, {"T", "N"}, NEXT_TOKENS);
//   NodeRef emb = b.Node("embed", "Embedding", {tokens}, {{"vocab", 256}, {"dim", 64}});
//   NodeRef lstm = b.Node("lstm", "LSTM", {emb}, {{"hidden", 256}, {"layers", 2}});
//   NodeRef logits = b.Node("logits", "Dense", {lstm}, {{"units", 256}});
//   NodeRef loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, targets});
//   b.Output(lstm.out("h_n"));  // "lstm:1"
//   b.Loss(loss);
//   b.Training().mutable_adam();
//   absl::StatusOr<ModelDef> model = b.Build();
//
// A custom recurrent cell reads its previous value through a state:
//
//   TensorRef h = b.State("h", {"N", 16}, "h_t");   // h at t is h_t at t - 1
//   NodeRef h_t = b.Node("h_t", "Tanh", {...h...});
//
// Mistakes (a tensor handle of another builder, an output index the op does
// not have, a repeated attribute, ...) never abort: the first one is kept and
// returned by Build(), after which Graph::Build reports everything the model
// file would be rejected for, prefixed with "model 'char_lm': ".
#ifndef RNNFLOW_GRAPH_BUILDER_H_
#define RNNFLOW_GRAPH_BUILDER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

class GraphBuilder;

// A tensor of a builder's model, named as model files name it: a graph input,
// parameter or state by its name, output 0 of a node by the node's name and
// output k of a node as "node:k". Cheap to copy.
class TensorRef {
 public:
  // An invalid handle; using it as an input is an error reported by Build().
  TensorRef() = default;

  // An absent optional input (written "" in a model file), e.g. an LSTM's
  // h0 when only c0 is connected: {x, TensorRef::Absent(), c0}.
  static TensorRef Absent();

  // "x", "enc", "enc:1"; empty for an absent input.
  const std::string& name() const { return name_; }
  bool valid() const { return kind_ != Kind::kInvalid; }

 private:
  friend class GraphBuilder;
  friend class NodeRef;
  enum class Kind { kInvalid, kAbsent, kTensor };
  TensorRef(int64_t builder, std::string name)
      : kind_(Kind::kTensor), builder_(builder), name_(std::move(name)) {}
  // An invalid handle that remembers why it is invalid.
  static TensorRef Error(int64_t builder, std::string why);

  Kind kind_ = Kind::kInvalid;
  int64_t builder_ = -1;
  std::string name_;
  std::string error_;  // why an invalid handle is invalid
};

// A node; converts to (and is) its output 0.
class NodeRef : public TensorRef {
 public:
  NodeRef() = default;

  const std::string& node_name() const { return node_; }
  // Output k: "node" for k = 0, else "node:k".
  TensorRef out(int k) const;
  // Output by its schema name: lstm.out("h_n") is "lstm:1".
  TensorRef out(absl::string_view output_name) const;

 private:
  friend class GraphBuilder;
  NodeRef(int64_t builder, std::string node, const OpSchema* schema)
      : TensorRef(builder, node), node_(std::move(node)), schema_(schema) {}

  std::string node_;
  const OpSchema* schema_ = nullptr;  // null for an unknown op
};

// An attribute value: int, float, string, bool or a list of one of them.
// Converts implicitly, so attributes read {{"units", 64}, {"direction",
// "bidirectional"}, {"use_bias", false}, {"dims", std::vector<int64_t>{1, 2}}}.
class AttrArg {
 public:
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  AttrArg(T v) {  // NOLINT(runtime/explicit)
    value_.set_i(static_cast<int64_t>(v));
  }
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  AttrArg(T v) {  // NOLINT(runtime/explicit)
    value_.set_f(static_cast<float>(v));
  }
  AttrArg(bool v) { value_.set_b(v); }                            // NOLINT
  AttrArg(const char* v) { value_.set_s(v); }                     // NOLINT
  AttrArg(std::string v) { value_.set_s(std::move(v)); }          // NOLINT
  AttrArg(absl::string_view v) { value_.set_s(std::string(v)); }  // NOLINT
  AttrArg(const std::vector<int64_t>& v);                         // NOLINT
  AttrArg(const std::vector<int>& v);                             // NOLINT
  AttrArg(const std::vector<float>& v);                           // NOLINT
  AttrArg(const std::vector<std::string>& v);                     // NOLINT
  AttrArg(AttrValue v) : value_(std::move(v)) {}                  // NOLINT

  const AttrValue& value() const { return value_; }

 private:
  AttrValue value_;
};

// Attributes of a node, in the order given.
using Attrs = std::vector<std::pair<std::string, AttrArg>>;

// One dimension of a graph input or state: a size (64) or a symbol ("T").
class DimArg {
 public:
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  DimArg(T v) : text_(std::to_string(v)) {}       // NOLINT(runtime/explicit)
  DimArg(const char* v) : text_(v) {}             // NOLINT
  DimArg(std::string v) : text_(std::move(v)) {}  // NOLINT

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Initializers of declared parameters.
InitializerDef ZerosInit();
InitializerDef OnesInit();
InitializerDef ConstantInit(float value);
InitializerDef UniformInit(float scale);  // in [-scale, scale]
InitializerDef NormalInit(float stddev);
InitializerDef GlorotUniformInit();

class GraphBuilder {
 public:
  // `name` becomes ModelDef.name; format_version is set to 1.
  explicit GraphBuilder(std::string name);

  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;
  GraphBuilder(GraphBuilder&&) = default;
  GraphBuilder& operator=(GraphBuilder&&) = default;

  // A graph input: `input { name dtype dim feed }`.
  TensorRef Input(const std::string& name, DataType dtype, const std::vector<DimArg>& dims,
                  Feed feed = FEED_NONE);

  // A declared trainable parameter: `param { name shape init }`. An empty
  // `init` (the default) leaves the initializer unset.
  TensorRef Param(const std::string& name, const std::vector<int64_t>& shape,
                  const InitializerDef& init = InitializerDef());

  // A recurrent state: reading it at step t yields `update` at t - 1 (at t = 0
  // `init`, or zeros when absent). `update` is a tensor name because it is
  // usually created after the state is read; see also SetStateUpdate.
  TensorRef State(const std::string& name, const std::vector<DimArg>& dims,
                  const std::string& update = "", const TensorRef& init = TensorRef::Absent());
  // Sets the update of a state created with State() once it exists.
  void SetStateUpdate(const TensorRef& state, const TensorRef& update);

  // A node; `inputs` in the op's input order (TensorRef::Absent() skips an
  // optional one).
  NodeRef Node(const std::string& name, const std::string& op, const std::vector<TensorRef>& inputs,
               const Attrs& attrs = {});

  // A handle for a tensor by its model-file name ("enc:1", "h"), for names
  // defined elsewhere or later.
  TensorRef Named(const std::string& name) const;

  // `output: ...` (a tensor the session exposes) and `loss: ...`.
  void Output(const TensorRef& t);
  void Loss(const TensorRef& t);
  // The training block, to edit in place.
  TrainingDef& Training() { return *model_.mutable_training(); }

  // The model as built so far (not validated).
  const ModelDef& model() const { return model_; }

  // The first builder error, else the model once Graph::Build accepts it.
  absl::StatusOr<ModelDef> Build(const GraphOptions& options = {}) const;
  // The same, returning the validated, shape-inferred graph.
  absl::StatusOr<Graph> BuildGraph(const GraphOptions& options = {}) const;

 private:
  // Records the first error; later ones are usually consequences.
  void Fail(std::string message);
  // The name of `t` for use as `what`, or "" after recording an error.
  std::string Use(const TensorRef& t, absl::string_view what);

  int64_t id_;
  ModelDef model_;
  std::string error_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_BUILDER_H_
