// Ops that act along the time axis of whole sequences.
#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"

namespace rnnflow {
namespace {

RF_REGISTER_OP("ReverseTime")
    .Doc("Reverses a sequence along its time axis: y[t] = x[T-1-t]. Runs a cell "
         "right-to-left when placed around it.")
    .Input("x", "[T, ...] sequence")
    .Output("y", "[T, ...], x reversed in time")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      const SymShape& x = ctx.input_shape(0);
      if (x[0] != Dim::Symbol("T")) {
        return ctx.InputError(0, absl::StrCat("must be a sequence with leading axis T; got ",
                                              ShapeToString(x)));
      }
      ctx.SetOutput(0, x, ctx.input_dtype(0));
      return absl::OkStatus();
    });

}  // namespace
}  // namespace rnnflow
