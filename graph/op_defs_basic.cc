// Schemas of the basic (non-recurrent) ops: embedding, dense layers,
// elementwise math, softmax, concat/slice and the losses.
//
// Every op here is rank-polymorphic over leading dimensions: the same node
// runs over a whole [T, N, ...] sequence or, inside a recurrent cell, over one
// [N, ...] time step. Axes given as attributes should therefore preferably be
// negative (counted from the end), which means the same in both modes.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

// Checks that every input of `ctx` is FLOAT32, skipping those listed in
// `except`.
absl::Status ExpectAllFloat(const ShapeContext& ctx, std::vector<int> except = {}) {
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    bool skip = false;
    for (int e : except) skip |= (e == i);
    if (!skip) RF_RETURN_IF_ERROR(ctx.ExpectDtype(i, FLOAT32));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PositiveIntAttr(const ShapeContext& ctx, absl::string_view name) {
  const int64_t v = ctx.GetInt(name);
  if (v <= 0) return ctx.AttrError(name, absl::StrCat("must be positive; got ", v));
  return v;
}

// Normalizes `axis` (negative counts from the end) against `rank`.
absl::StatusOr<int> NormalizeAxis(const ShapeContext& ctx, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return ctx.AttrError("axis", absl::StrCat("must be in [", -rank, ", ", rank, ") for rank ",
                                              rank, "; got ", axis));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// `b` equals `a` or is a suffix of it.
bool IsSuffix(const SymShape& a, const SymShape& b) {
  if (b.size() > a.size()) return false;
  const size_t off = a.size() - b.size();
  for (size_t i = 0; i < b.size(); ++i) {
    if (a[off + i] != b[i]) return false;
  }
  return true;
}

absl::Status UnaryFloatShape(ShapeContext& ctx) {
  RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
  ctx.SetOutput(0, ctx.input_shape(0));
  return absl::OkStatus();
}

absl::Status BroadcastBinaryShape(ShapeContext& ctx) {
  RF_RETURN_IF_ERROR(ExpectAllFloat(ctx));
  const SymShape& a = ctx.input_shape(0);
  const SymShape& b = ctx.input_shape(1);
  if (!IsSuffix(a, b)) {
    return ctx.InputError(
        1,
        absl::StrCat("has shape ", ShapeToString(b), ", which must equal the shape of input 'a' ",
                     ShapeToString(a), " or a suffix of it (broadcast over leading dims)"));
  }
  ctx.SetOutput(0, a);
  return absl::OkStatus();
}

// Two (or, with the optional weights, three) inputs of identical shape, a
// scalar output (the mean).
absl::Status SameShapeLossShape(ShapeContext& ctx) {
  RF_RETURN_IF_ERROR(ExpectAllFloat(ctx));
  const SymShape& a = ctx.input_shape(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const SymShape& b = ctx.input_shape(i);
    if (a != b) {
      return ctx.InputError(i, absl::StrCat("must have the shape of input '", ctx.input_name(0),
                                            "' ", ShapeToString(a), "; got ", ShapeToString(b)));
    }
  }
  ctx.SetOutput(0, {});
  return absl::OkStatus();
}

}  // namespace

RF_REGISTER_OP("Embedding")
    .Doc(
        "Looks up rows of a trainable table: y[..., :] = table[ids[...], :]. "
        "Ids outside [0, vocab) are a runtime error.")
    .NonDifferentiableInput("ids", "INT32 token ids, any shape [...]")
    .Output("y", "FLOAT32 [..., dim]")
    .Attr("vocab", AttrType::kInt, "number of rows of the table (vocabulary size)")
    .Attr("dim", AttrType::kInt, "embedding width")
    .Attr("init", AttrType::kString, StringAttr("uniform"),
          "initial table values: \"uniform\" in [-init_scale, init_scale] or \"normal\" with "
          "stddev init_scale (PyTorch's nn.Embedding: normal, 1)")
    .AllowedValues({"uniform", "normal"})
    .Attr("init_scale", AttrType::kFloat, FloatAttr(0.1f), "scale of the initial values, > 0")
    .ParamsDoc("table [vocab, dim], initialised per init and init_scale")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, INT32));
      RF_ASSIGN_OR_RETURN(const int64_t vocab, PositiveIntAttr(ctx, "vocab"));
      RF_ASSIGN_OR_RETURN(const int64_t dim, PositiveIntAttr(ctx, "dim"));
      SymShape out = ctx.input_shape(0);
      out.push_back(Dim::Known(dim));
      ctx.SetOutput(0, std::move(out));
      const float scale = ctx.GetFloat("init_scale");
      if (!(scale > 0))
        return ctx.AttrError("init_scale", absl::StrCat("must be > 0; got ", scale));
      ctx.AddParam("table", {vocab, dim}, MakeInit(ctx.GetString("init"), scale));
      return absl::OkStatus();
    });

RF_REGISTER_OP("Dense")
    .Doc("Affine layer over the last axis: y = x @ kernel + bias.")
    .Input("x", "FLOAT32 [..., C], C known")
    .Output("y", "FLOAT32 [..., units]")
    .Attr("units", AttrType::kInt, "output width")
    .Attr("use_bias", AttrType::kBool, BoolAttr(true), "whether to add a bias")
    .ParamsDoc(
        "kernel [C, units] (glorot_uniform); bias [units] (zeros), only "
        "when use_bias")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
      RF_ASSIGN_OR_RETURN(const int64_t c, ctx.KnownLastDim(0));
      RF_ASSIGN_OR_RETURN(const int64_t units, PositiveIntAttr(ctx, "units"));
      SymShape out = ctx.input_shape(0);
      out.back() = Dim::Known(units);
      ctx.SetOutput(0, std::move(out));
      ctx.AddParam("kernel", {c, units}, MakeInit("glorot_uniform"));
      if (ctx.GetBool("use_bias")) ctx.AddParam("bias", {units}, MakeInit("zeros"));
      return absl::OkStatus();
    });

RF_REGISTER_OP("MatMul")
    .Doc("Matrix product over the last axis of `a`: y = a @ b.")
    .Input("a", "FLOAT32 [..., K]")
    .Input("b", "FLOAT32 [K, M]")
    .Output("y", "FLOAT32 [..., M]")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ExpectAllFloat(ctx));
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      RF_RETURN_IF_ERROR(ctx.ExpectRank(1, {"K", "M"}));
      const SymShape& a = ctx.input_shape(0);
      const SymShape& b = ctx.input_shape(1);
      if (a.back() != b[0]) {
        return ctx.InputError(1, absl::StrCat("dimension 0 (K) must equal the last dimension of "
                                              "input 'a'; got a ",
                                              ShapeToString(a), " and b ", ShapeToString(b)));
      }
      SymShape out = a;
      out.back() = b[1];
      ctx.SetOutput(0, std::move(out));
      return absl::OkStatus();
    });

RF_REGISTER_OP("Add")
    .Doc(
        "Elementwise a + b; b's shape equals a's or is a suffix of it and is "
        "broadcast over a's leading dims.")
    .Input("a", "FLOAT32 [...]")
    .Input("b", "FLOAT32, the shape of a or a suffix of it")
    .Output("y", "FLOAT32, the shape of a")
    .SetShapeFn(BroadcastBinaryShape);

RF_REGISTER_OP("Sub")
    .Doc(
        "Elementwise a - b; b's shape equals a's or is a suffix of it and is "
        "broadcast over a's leading dims.")
    .Input("a", "FLOAT32 [...]")
    .Input("b", "FLOAT32, the shape of a or a suffix of it")
    .Output("y", "FLOAT32, the shape of a")
    .SetShapeFn(BroadcastBinaryShape);

RF_REGISTER_OP("Mul")
    .Doc(
        "Elementwise a * b; b's shape equals a's or is a suffix of it and is "
        "broadcast over a's leading dims.")
    .Input("a", "FLOAT32 [...]")
    .Input("b", "FLOAT32, the shape of a or a suffix of it")
    .Output("y", "FLOAT32, the shape of a")
    .SetShapeFn(BroadcastBinaryShape);

RF_REGISTER_OP("Tanh")
    .Doc("Elementwise hyperbolic tangent.")
    .Input("x", "FLOAT32 [...]")
    .Output("y", "FLOAT32, the shape of x")
    .SetShapeFn(UnaryFloatShape);

RF_REGISTER_OP("Sigmoid")
    .Doc("Elementwise logistic function 1 / (1 + exp(-x)).")
    .Input("x", "FLOAT32 [...]")
    .Output("y", "FLOAT32, the shape of x")
    .SetShapeFn(UnaryFloatShape);

RF_REGISTER_OP("Relu")
    .Doc("Elementwise max(x, 0).")
    .Input("x", "FLOAT32 [...]")
    .Output("y", "FLOAT32, the shape of x")
    .SetShapeFn(UnaryFloatShape);

RF_REGISTER_OP("Softmax")
    .Doc("Softmax over the last axis.")
    .Input("x", "FLOAT32 [..., C]")
    .Output("y", "FLOAT32, the shape of x")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      return UnaryFloatShape(ctx);
    });

RF_REGISTER_OP("Concat")
    .Doc(
        "Concatenates tensors along `axis`; all other dims must be equal and "
        "the sizes along `axis` known.")
    .VariadicInput("values", "one or more FLOAT32 tensors of equal rank")
    .Output("y", "FLOAT32, sizes along axis summed")
    .Attr("axis", AttrType::kInt, IntAttr(-1),
          "axis to concatenate along; negative counts from the end")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ExpectAllFloat(ctx));
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      const SymShape& first = ctx.input_shape(0);
      const int rank = static_cast<int>(first.size());
      RF_ASSIGN_OR_RETURN(const int axis, NormalizeAxis(ctx, ctx.GetInt("axis"), rank));
      int64_t total = 0;
      for (int i = 0; i < ctx.num_inputs(); ++i) {
        const SymShape& s = ctx.input_shape(i);
        bool match = s.size() == first.size();
        for (int d = 0; match && d < rank; ++d) {
          if (d != axis && s[d] != first[d]) match = false;
        }
        if (!match) {
          return ctx.InputError(
              i, absl::StrCat("has shape ", ShapeToString(s), ", which does not match ",
                              ShapeToString(first), " of input '", ctx.input_name(0),
                              "' outside axis ", axis));
        }
        if (!s[axis].known()) {
          return ctx.InputError(i, absl::StrCat("must have a known size along axis ", axis,
                                                "; got ", ShapeToString(s)));
        }
        total += s[axis].size;
      }
      SymShape out = first;
      out[axis] = Dim::Known(total);
      ctx.SetOutput(0, std::move(out));
      return absl::OkStatus();
    });

RF_REGISTER_OP("Slice")
    .Doc(
        "Takes `size` entries starting at `begin` along `axis`: "
        "y = x[..., begin:begin+size, ...]. The size of x along axis must be "
        "known.")
    .Input("x", "FLOAT32 [...]")
    .Output("y", "FLOAT32, x's shape with `size` along axis")
    .Attr("axis", AttrType::kInt, IntAttr(-1), "axis to slice; negative counts from the end")
    .Attr("begin", AttrType::kInt, "first index along axis, >= 0")
    .Attr("size", AttrType::kInt, "number of entries, >= 1; -1 means to the end")
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      const SymShape& x = ctx.input_shape(0);
      const int rank = static_cast<int>(x.size());
      RF_ASSIGN_OR_RETURN(const int axis, NormalizeAxis(ctx, ctx.GetInt("axis"), rank));
      if (!x[axis].known()) {
        return ctx.InputError(0, absl::StrCat("must have a known size along axis ", axis, "; got ",
                                              ShapeToString(x)));
      }
      const int64_t dim = x[axis].size;
      const int64_t begin = ctx.GetInt("begin");
      int64_t size = ctx.GetInt("size");
      if (begin < 0 || begin >= dim) {
        return ctx.AttrError("begin", absl::StrCat("must be in [0, ", dim, ") for axis ", axis,
                                                   " of ", ShapeToString(x), "; got ", begin));
      }
      if (size == -1) size = dim - begin;
      if (size <= 0 || begin + size > dim) {
        return ctx.AttrError(
            "size",
            absl::StrCat("must be in [1, ", dim - begin, "] (or -1) for begin ", begin, " on axis ",
                         axis, " of ", ShapeToString(x), "; got ", ctx.GetInt("size")));
      }
      SymShape out = x;
      out[axis] = Dim::Known(size);
      ctx.SetOutput(0, std::move(out));
      return absl::OkStatus();
    });

RF_REGISTER_OP("SoftmaxCrossEntropy")
    .Doc(
        "Mean over positions of -log softmax(logits)[label], computed stably "
        "with log-sum-exp. Positions whose label equals `ignore_label` are "
        "excluded from the mean (the loss is 0 when all are ignored). Labels "
        "outside [0, V) are a runtime error.")
    .Input("logits", "FLOAT32 [..., V]")
    .NonDifferentiableInput("labels", "INT32 [...], the leading dims of logits")
    .Output("loss", "FLOAT32 [] scalar mean")
    .Attr("ignore_label", AttrType::kInt, IntAttr(-1),
          "label value excluded from the loss and its mean")
    .Loss()
    .SetShapeFn([](ShapeContext& ctx) -> absl::Status {
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
      RF_RETURN_IF_ERROR(ctx.ExpectMinRank(0, 1));
      RF_RETURN_IF_ERROR(ctx.ExpectDtype(1, INT32));
      const SymShape& logits = ctx.input_shape(0);
      const SymShape& labels = ctx.input_shape(1);
      const SymShape lead(logits.begin(), logits.end() - 1);
      if (labels != lead) {
        return ctx.InputError(
            1, absl::StrCat("must have the leading dims of input 'logits' ", ShapeToString(logits),
                            ", i.e. ", ShapeToString(lead), "; got ", ShapeToString(labels)));
      }
      ctx.SetOutput(0, {});
      return absl::OkStatus();
    });

RF_REGISTER_OP("SigmoidCrossEntropy")
    .Doc(
        "Mean over all elements of the binary cross-entropy of sigmoid(logits) "
        "against targets in [0, 1], computed stably as "
        "max(x, 0) - x * t + log(1 + exp(-|x|)). With `weights`: "
        "sum(w * loss) / sum(w) (0 when all weights are 0), so 0/1 weights "
        "give the mean over the unmasked elements (padding excluded).")
    .Input("logits", "FLOAT32 [...]")
    .NonDifferentiableInput("targets", "FLOAT32, the shape of logits")
    .OptionalNonDifferentiableInput("weights", "FLOAT32 >= 0, the shape of logits")
    .Output("loss", "FLOAT32 [] scalar mean")
    .Loss()
    .SetShapeFn(SameShapeLossShape);

RF_REGISTER_OP("MeanSquaredError")
    .Doc(
        "Mean over all elements of (predictions - targets)^2. With `weights`: "
        "sum(w * (p - t)^2) / sum(w) (0 when all weights are 0).")
    .Input("predictions", "FLOAT32 [...]")
    .NonDifferentiableInput("targets", "FLOAT32, the shape of predictions")
    .OptionalNonDifferentiableInput("weights", "FLOAT32 >= 0, the shape of predictions")
    .Output("loss", "FLOAT32 [] scalar mean")
    .Loss()
    .SetShapeFn(SameShapeLossShape);

}  // namespace rnnflow
