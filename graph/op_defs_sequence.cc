// Ops that act along the time axis of whole sequences.
#include "graph/op_registry.h"

namespace rnnflow {
namespace {

RF_REGISTER_OP("ReverseTime")
    .Doc("Reverses a sequence along its time axis: y[t] = x[T-1-t]. Runs a cell "
         "right-to-left when placed around it.")
    .Input("x", "[T, ...] sequence")
    .Output("y", "[T, ...], x reversed in time")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      // Any leading axis reverses; in a model it is the time axis T.
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      ctx.SetOutput(0, ctx.input_shape(0), ctx.input_dtype(0));
      return absl::OkStatus();
    });

}  // namespace
}  // namespace rnnflow
