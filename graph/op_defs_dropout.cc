// Schema of Dropout, the one stochastic op: active in training passes only
// (RunInfo in runtime/kernel.h), an identity in every other pass.
#include <set>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

RF_REGISTER_OP("Dropout")
    .Doc(
        "Inverted dropout. In training passes each element of x is zeroed with "
        "probability `rate` and the others are scaled by 1 / (1 - rate), so the "
        "expected value is unchanged; in every other pass (validation, eval, "
        "predict, generate, decode) y = x. The mask is a pure function of (run "
        "seed, optimizer step, node name, global batch column, element), drawn by "
        "a counter-based hash: runs repeat, a resumed run is exact, the backward "
        "pass recomputes the same mask, and data-parallel workers together drop "
        "what one process of their combined batch drops. Inside a recurrence every time "
        "step draws its own mask, the one the same node would draw over the whole "
        "[T, ...] sequence.")
    .Input("x", "FLOAT32 [...]")
    .Output("y", "FLOAT32, the shape of x")
    .Attr("rate", AttrType::kFloat, "probability of zeroing an element, in [0, 1)")
    .Attr("shared_axes", AttrType::kInts, IntsAttr({}),
          "axes of x along which one mask value is shared (size 1 in the mask, like "
          "TensorFlow's noise_shape); negative counts from the end. [0] on a [T, N, C] "
          "sequence drops the same features of a column at every step (variational "
          "dropout)")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
      const float rate = ctx.GetFloat("rate");
      if (!(rate >= 0.f && rate < 1.f)) {
        return ctx.AttrError("rate", absl::StrCat("must be in [0, 1); got ", rate));
      }
      const int rank = static_cast<int>(ctx.input_shape(0).size());
      std::set<int> seen;
      for (int64_t axis : ctx.GetInts("shared_axes")) {
        if (axis < -rank || axis >= rank) {
          return ctx.AttrError("shared_axes",
                               absl::StrCat("entry ", axis, " must be in [", -rank, ", ", rank,
                                            ") for input 'x' ", ShapeToString(ctx.input_shape(0))));
        }
        const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
        if (!seen.insert(a).second) {
          return ctx.AttrError("shared_axes",
                               absl::StrCat("names axis ", a, " of input 'x' twice"));
        }
      }
      ctx.SetOutput(0, ctx.input_shape(0));
      return absl::OkStatus();
    });

}  // namespace
}  // namespace rnnflow
