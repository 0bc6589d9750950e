// Analytic FLOP counts of a graph for concrete sizes: what `rnnflow inspect`
// reports and what benchmarks divide by to get GFLOP/s.
#ifndef RNNFLOW_GRAPH_COST_MODEL_H_
#define RNNFLOW_GRAPH_COST_MODEL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"

namespace rnnflow {

struct FlopCount {
  int64_t forward = 0;
  // Backward counted as twice the forward for matrix products (gradients of
  // both operands), the usual convention; elementwise work once more.
  int64_t backward = 0;
  int64_t training_step() const { return forward + backward; }
};

absl::StatusOr<FlopCount> CountFlops(const Graph& graph, const SymbolBindings& bindings);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_COST_MODEL_H_
