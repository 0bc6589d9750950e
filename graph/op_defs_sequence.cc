// Ops that act along the time axis of whole sequences.
#include "absl/strings/str_cat.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

RF_REGISTER_OP("ReverseTime")
    .Doc(
        "Reverses a sequence along its time axis: y[t] = x[T-1-t]. Runs a cell "
        "right-to-left when placed around it. With lengths, each sequence n is "
        "reversed within its own steps: y[t, n] = x[len_n-1-t, n] for t < len_n "
        "and 0 after (the per-sequence reversal of the fused ops' lengths).")
    .Input("x", "[T, ...] sequence")
    .OptionalNonDifferentiableInput(
        "lengths", "[N] INT32 (optional), 1 <= len_n <= T; x must then be [T, N, ...]")
    .Output("y", "[T, ...], x reversed in time")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      // Any leading axis reverses; in a model it is the time axis T.
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      if (ctx.has_input(1)) {
        RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 2));
        RF_RETURN_IF_ERROR(ctx.ExpectRank(1, {"N"}));
        RF_RETURN_IF_ERROR(ctx.ExpectDtype(1, INT32));
        const Dim& n = ctx.input_shape(0)[1];
        const Dim& l = ctx.input_shape(1)[0];
        const bool same = (n.known() && l.known())     ? n.size == l.size
                          : (!n.known() && !l.known()) ? n.symbol == l.symbol
                                                       : true;
        if (!same) {
          return ctx.InputError(1, absl::StrCat("must have shape [N] with the second axis of "
                                                "'x' (",
                                                ShapeToString(SymShape{n}), "); got ",
                                                ShapeToString(ctx.input_shape(1))));
        }
      }
      ctx.SetOutput(0, ctx.input_shape(0), ctx.input_dtype(0));
      return absl::OkStatus();
    });

}  // namespace
}  // namespace rnnflow
