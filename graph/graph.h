// A validated, shape-inferred model: the rolled graph that planning and
// unrolling work from. Building one checks everything a user can get wrong
// and reports it with the file position and the user's node name.
#ifndef RNNFLOW_GRAPH_GRAPH_H_
#define RNNFLOW_GRAPH_GRAPH_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "rnnflow/graph/op_registry.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/graph/source_map.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

// How a tensor relates to time.
enum class TimeKind {
  kStatic,    // no time axis: parameters, per-sequence inputs, final states
  kSequence,  // leading axis a time symbol ("T", "S"): [T, N, ...]
  kStep,      // produced once per time step inside a recurrence; stored
              // stacked as [T, ...]; `shape` is the per-step shape
};

// The time symbol every model has: the one --truncation-steps binds.
inline constexpr char kDefaultTimeSymbol[] = "T";

enum class TensorSource { kGraphInput, kParam, kState, kNodeOutput };

struct TensorInfo {
  std::string name;  // "x", "enc/l0/w_x", "h", "enc:1"
  SymShape shape;    // per-step shape for kStep
  DataType dtype = FLOAT32;
  TimeKind time = TimeKind::kStatic;
  // kSequence / kStep: the symbol of the time axis ("T", or e.g. "S" for a
  // pairs model's source); empty for kStatic.
  std::string time_symbol;
  TensorSource source = TensorSource::kNodeOutput;
  int index = -1;              // graph input / param / state index, or node index
  int output = 0;              // output index for node outputs
  bool requires_grad = false;  // a parameter's gradient flows through it

  // The shape a non-recurrent consumer sees ([time_symbol] + shape for kStep).
  SymShape StackedShape() const;
};

struct NodeInfo {
  const NodeDef* def = nullptr;
  const OpSchema* schema = nullptr;
  int index = -1;  // position in ModelDef.node
  // Declared inputs in schema order (-1 = absent optional), then the
  // node's own parameters.
  std::vector<int> inputs;
  int num_declared_inputs = 0;
  std::vector<int> outputs;
  bool recurrent = false;  // on a cycle through a declared state
  bool needs_backward = false;
  // For each carried state of the schema that is not connected:
  // (input slot, output index) whose final value is carried across chunks.
  std::vector<std::pair<int, int>> carried;
};

struct ParamInfo {
  std::string name;
  Shape shape;
  InitializerDef init;
  int tensor = -1;
};

struct StateInfo {
  std::string name;
  int tensor = -1;  // the state read
  int update = -1;  // tensor whose step-t value is read at t + 1
  int init = -1;    // optional initial-value tensor
};

// A run of consecutive schedule entries: one non-recurrent node (run once
// over whole sequences) or one recurrence group (run once per time step).
struct Segment {
  int begin = 0, end = 0;  // [begin, end) in Graph::schedule()
  bool recurrent = false;
  std::string time_symbol;  // recurrent: the time axis its steps run over
};

struct GraphOptions {
  bool require_loss = true;  // training needs a scalar loss
};

class Graph {
 public:
  Graph() = default;
  // Nodes point into model(); moving keeps those addresses, copying would not.
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  // Validates `model` and infers every shape.
  static absl::StatusOr<Graph> Build(const ModelDef& model, const SourceMap& source,
                                     const GraphOptions& options = {});

  const ModelDef& model() const { return model_; }
  const SourceMap& source() const { return source_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::vector<NodeInfo>& nodes() const { return nodes_; }  // ModelDef order
  const std::vector<ParamInfo>& params() const { return params_; }
  const std::vector<StateInfo>& states() const { return states_; }
  // Node indices in execution order, cut into segments.
  const std::vector<int>& schedule() const { return schedule_; }
  const std::vector<Segment>& segments() const { return segments_; }
  int loss() const { return loss_; }  // tensor id, or -1
  const std::vector<int>& outputs() const { return outputs_; }
  const std::vector<int>& graph_inputs() const { return graph_inputs_; }
  // The time symbols: "T", then every other symbol that leads a graph input
  // of shape [symbol, N, ...], in input order. Each is bound per run.
  const std::vector<std::string>& time_symbols() const { return time_symbols_; }

  // Tensor id by name ("node", "node:1", input, param or state name).
  int FindTensor(const std::string& name) const;
  const TensorInfo& tensor(int id) const { return tensors_[id]; }

  // Total parameter count.
  int64_t NumParameters() const;

 private:
  ModelDef model_;
  SourceMap source_;
  std::vector<TensorInfo> tensors_;
  std::vector<NodeInfo> nodes_;
  std::vector<ParamInfo> params_;
  std::vector<StateInfo> states_;
  std::vector<int> schedule_;
  std::vector<Segment> segments_;
  std::vector<int> outputs_;
  std::vector<int> graph_inputs_;
  std::vector<std::string> time_symbols_;
  int loss_ = -1;
  absl::flat_hash_map<std::string, int> by_name_;

  friend class GraphBuilderImpl;
};

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_GRAPH_H_
