// Pooling over the time axis of whole sequences: one vector per sequence,
// over each sequence's own steps when lengths are given.
#include <string>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

// x [T, N, ...] and optional lengths [N] -> y [1, N, ...].
absl::Status PoolOverTimeShape(ShapeContext& ctx) {
  RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
  RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 2));
  const SymShape& x = ctx.input_shape(0);
  if (ctx.has_input(1)) {
    RF_RETURN_IF_ERROR(ctx.ExpectRank(1, {"N"}));
    RF_RETURN_IF_ERROR(ctx.ExpectDtype(1, INT32));
    if (ctx.input_shape(1)[0] != x[1]) {
      return ctx.InputError(1, absl::StrCat("must have shape ", ShapeToString(SymShape{x[1]}),
                                            ", the second axis of input 'x' ", ShapeToString(x),
                                            "; got ", ShapeToString(ctx.input_shape(1))));
    }
  }
  SymShape y = x;
  y[0] = Dim::Known(1);
  ctx.SetOutput(0, std::move(y));
  return absl::OkStatus();
}

constexpr char kLengthsDoc[] =
    "[N] INT32, 1 <= len_n <= T: sequence n's steps are t < len_n (padding after "
    "it is ignored and gets no gradient)";

}  // namespace

RF_REGISTER_OP("MeanOverTime")
    .Doc(
        "Mean over the time axis: y[0, n] = sum_{t < len_n} x[t, n] / len_n (len_n = T "
        "without lengths). A many-to-one summary of a whole sequence, e.g. of a "
        "bidirectional layer's outputs, whose [1, N, ...] shape matches a fused layer's h_n.")
    .Input("x", "FLOAT32 [T, N, ...]")
    .OptionalNonDifferentiableInput("lengths", kLengthsDoc)
    .Output("y", "FLOAT32 [1, N, ...]")
    .SetShapeFn(PoolOverTimeShape);

RF_REGISTER_OP("MaxOverTime")
    .Doc(
        "Maximum over the time axis, per element: y[0, n] = max_{t < len_n} x[t, n] "
        "(all T steps without lengths). The gradient goes to the first step holding the "
        "maximum.")
    .Input("x", "FLOAT32 [T, N, ...]")
    .OptionalNonDifferentiableInput("lengths", kLengthsDoc)
    .Output("y", "FLOAT32 [1, N, ...]")
    .SetShapeFn(PoolOverTimeShape);

}  // namespace rnnflow
