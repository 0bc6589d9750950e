// The reference lowering of fused recurrent layers (RNN, LSTM, GRU) into
// cells written from primitive ops with declared states, run step by step.
// It defines what the fused oneDNN kernels must compute: tests run both forms
// with the same weights and compare outputs and gradients. It is also a
// starting point for users who want to modify a standard cell.
#ifndef RNNFLOW_GRAPH_RNN_LOWERING_H_
#define RNNFLOW_GRAPH_RNN_LOWERING_H_

#include "absl/status/statusor.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

// Returns `model` with every fused recurrent node replaced by its unrolled
// cell. Parameters keep their names ("enc/l0/w_x", ...) and element order;
// biases become flat ([G*H] instead of [G, H]). Supported: nodes whose only
// consumed output is `y` and whose initial states, lengths and resets are not
// connected.
absl::StatusOr<ModelDef> LowerRecurrentLayers(const ModelDef& model);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_RNN_LOWERING_H_
