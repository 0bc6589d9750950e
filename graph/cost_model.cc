#include "rnnflow/graph/cost_model.h"

#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<FlopCount> CountFlops(const Graph& graph, const SymbolBindings& bindings) {
  FlopCount total;
  for (const NodeInfo& node : graph.nodes()) {
    const std::string& op = node.def->op();
    // Shapes over the whole chunk (per-step tensors stacked over T).
    auto shape_of = [&](int tensor) -> absl::StatusOr<Shape> {
      return Bind(graph.tensor(tensor).StackedShape(), bindings);
    };
    RF_ASSIGN_OR_RETURN(Shape out, shape_of(node.outputs[0]));
    const int64_t out_elems = NumElements(out);
    int64_t matmul = 0, elementwise = 0;
    if (op == "Dense" || op == "MatMul") {
      RF_ASSIGN_OR_RETURN(Shape in, shape_of(node.inputs[0]));
      const int64_t rows = NumElements(in) / in.back();
      matmul = 2 * rows * in.back() * out.back();
    } else if (op == "LSTM" || op == "GRU" || op == "RNN") {
      RF_ASSIGN_OR_RETURN(Shape x, shape_of(node.inputs[0]));
      const int64_t gates = op == "LSTM" ? 4 : (op == "GRU" ? 3 : 1);
      const int64_t H = node.def->attr().at("hidden").i();
      const int64_t L = node.def->attr().at("layers").i();
      const int64_t D = node.def->attr().at("direction").s() == "bidirectional" ? 2 : 1;
      int64_t in_width = x[2];
      for (int64_t l = 0; l < L; ++l) {
        matmul += D * 2 * gates * H * (in_width + H) * x[0] * x[1];
        in_width = D * H;
      }
      elementwise = 10 * D * L * x[0] * x[1] * H;
    } else if (op != "Embedding") {
      elementwise = out_elems;
      if (op == "SoftmaxCrossEntropy" || op == "Softmax") {
        RF_ASSIGN_OR_RETURN(Shape logits, shape_of(node.inputs[0]));
        elementwise = 5 * NumElements(logits);
      }
    }
    total.forward += matmul + elementwise;
    total.backward += 2 * matmul + elementwise;
  }
  return total;
}

}  // namespace rnnflow
