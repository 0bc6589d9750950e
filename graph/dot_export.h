// Graphviz (DOT) pictures of a model: `dot -Tsvg model.dot > model.svg`.
//
// RolledDot draws the model as written, one time step:
//   - graph inputs as ellipses, parameters (declared ones and those nodes own,
//     "enc/l0/w_x") as small boxes, states as dashed boxes;
//   - nodes as rounded boxes labelled with name, op and the attributes that
//     differ from the schema default (required ones always);
//   - edges labelled with the tensor's shape as the consumer sees it (per
//     step inside the recurrence, [T, ...] outside), prefixed by the output
//     name for outputs other than 0;
//   - the recurrent region (NodeInfo::recurrent) in a dashed cluster, and each
//     state link as a dashed back-edge "t-1" from the update to the state;
//   - model outputs and the loss as plain-text sinks.
//
// UnrolledDot draws the same model over T time steps:
//   - recurrent-region nodes are copied once per step, in clusters "t=0" ..
//     "t=T-1" (DOT subgraphs cluster_t0 ...); reading a state at step t is an
//     edge from step t-1's update (dashed, "h (t-1)"); at t = 0 it comes from
//     an initial-value node ("h at t=0": the state's init tensor, or zeros /
//     the value carried from the previous chunk);
//   - fused recurrent layers (ops with carried state: LSTM, GRU, RNN) become a
//     chain of T cells, one per step cluster, linked by their states; their
//     final-state outputs (h_n, c_n) leave the last cell;
//   - every other node is drawn ONCE: it runs as one call batched over the
//     whole [T, N, ...] sequence (that is how the executor schedules it), so
//     its label says "x T" when it produces a sequence. Edges between a
//     batched node and per-step nodes are labelled with the step they carry
//     ("[t=3]").
#ifndef RNNFLOW_GRAPH_DOT_EXPORT_H_
#define RNNFLOW_GRAPH_DOT_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"

namespace rnnflow {

// The largest T UnrolledDot accepts: beyond that the picture is unreadable.
inline constexpr int64_t kMaxUnrolledSteps = 1000;

std::string RolledDot(const Graph& graph);

// Fails for T < 1 or T > kMaxUnrolledSteps.
absl::StatusOr<std::string> UnrolledDot(const Graph& graph, int64_t T);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_DOT_EXPORT_H_
