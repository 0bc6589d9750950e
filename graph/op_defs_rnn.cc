// Schemas of the fused recurrent layers: RNN, LSTM and GRU.
//
// Each runs a whole [T, N, C] sequence through `layers` stacked layers, one
// oneDNN primitive per layer (ops/internal/rnn_layer.h). Stacks follow PyTorch: layer
// k+1 reads the concatenated outputs of both directions of layer k.
//
// Parameters, per layer k and direction (forward "l{k}", reverse
// "l{k}_reverse"), in the canonical dense oneDNN `ldigo` layout:
//   w_x [I_k, G*H]  input weights (I_0 = C, I_k = D*H for k > 0)
//   w_h [H, G*H]    recurrent weights
//   b   [Gb, H]     bias (one row per gate; LBR-GRU has a 4th row)
// Column g*H + j of w_x/w_h feeds unit j of gate g.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

enum class CellKind { kRnn, kLstm, kGru };

const char* const kPrecisionDoc =
    "\"f32\" computes in float32; \"bf16\" runs the oneDNN primitives in "
    "bfloat16 (AMX or AVX512-BF16 on CPUs that have them: 2-3x faster for LSTM) "
    "while parameters, gradients, the cell state and every tensor other ops "
    "see stay float32 (mixed precision; results differ from f32 by about "
    "1e-2 relative). On a CPU without bf16 kernels the layer computes in "
    "float32 and says so once on stderr.";
const char* const kLengthsDoc =
    "[N] INT32 (optional): sequence n occupies steps 0..len_n-1, 1 <= len_n "
    "<= T (another value is an error naming the column). The result equals "
    "running each sequence alone: y is 0 at t >= len_n, a reverse direction "
    "starts at t = len_n-1 (and layer k+1 reads its output per sequence), "
    "h_n/c_n hold each sequence's own final states (forward: after t = "
    "len_n-1; reverse: after t = 0), padding gets and gives no gradient. "
    "Absent: every sequence has length T (the single-primitive fast path).";
const char* const kResetsDoc =
    "[T,N] FLOAT32 (optional), 0 or 1: 1 at (t, n) marks a document boundary "
    "before step t of column n; no state crosses it: the forward direction "
    "restarts from a zero state at t (at t = 0 this zeroes the initial or "
    "carried state), a reverse direction restarts from zero at t-1. Equals "
    "running the pieces separately. Not differentiable.";

const char* const kDirectionDoc =
    "\"forward\" runs t = 0..T-1; \"bidirectional\" adds a reverse "
    "direction (t = T-1..0) per layer and concatenates the two on the feature "
    "axis: y = [forward H | reverse H]. Layer k+1 reads both directions of "
    "layer k (PyTorch semantics).";

// Whether two dims can be the same size (unknown symbols must match).
bool DimsCompatible(const Dim& a, const Dim& b) {
  if (a.known() && b.known()) return a.size == b.size;
  if (!a.known() && !b.known()) return a.symbol == b.symbol;
  return true;  // one is bound only later
}

absl::Status CheckStateShape(const ShapeContext& ctx, int i, const Dim& n, int64_t ld,
                             int64_t hidden) {
  if (!ctx.has_input(i)) return absl::OkStatus();
  RF_RETURN_IF_ERROR(ctx.ExpectRank(i, {"L*D", "N", "H"}));
  RF_RETURN_IF_ERROR(ctx.ExpectDtype(i, FLOAT32));
  const SymShape& s = ctx.input_shape(i);
  const SymShape expected = {Dim::Known(ld), n, Dim::Known(hidden)};
  if (!s[0].known() || s[0].size != ld || !s[2].known() || s[2].size != hidden ||
      !DimsCompatible(s[1], n)) {
    return ctx.InputError(
        i, absl::StrCat("must have shape [L*D,N,H] = ", ShapeToString(expected),
                        " (layers*directions, batch of 'x', hidden); got ", ShapeToString(s)));
  }
  return absl::OkStatus();
}

// lengths [N] INT32 and resets [T,N] FLOAT32, both optional.
absl::Status CheckSequenceMasks(const ShapeContext& ctx, int lengths, const Dim& t, const Dim& n) {
  if (ctx.has_input(lengths)) {
    RF_RETURN_IF_ERROR(ctx.ExpectRank(lengths, {"N"}));
    RF_RETURN_IF_ERROR(ctx.ExpectDtype(lengths, INT32));
    const SymShape& s = ctx.input_shape(lengths);
    if (!DimsCompatible(s[0], n)) {
      return ctx.InputError(lengths,
                            absl::StrCat("must have shape [N] with the batch N of 'x' (",
                                         ShapeToString(SymShape{n}), "); got ", ShapeToString(s)));
    }
  }
  const int resets = lengths + 1;
  if (ctx.has_input(resets)) {
    RF_RETURN_IF_ERROR(ctx.ExpectRank(resets, {"T", "N"}));
    RF_RETURN_IF_ERROR(ctx.ExpectDtype(resets, FLOAT32));
    const SymShape& s = ctx.input_shape(resets);
    if (!DimsCompatible(s[0], t) || !DimsCompatible(s[1], n)) {
      return ctx.InputError(
          resets, absl::StrCat("must have shape [T,N] like the first two axes of 'x' (",
                               ShapeToString(SymShape{t, n}), "); got ", ShapeToString(s)));
    }
  }
  return absl::OkStatus();
}

ShapeFn RecurrentShapeFn(CellKind cell) {
  return [cell](ShapeContext& ctx) -> absl::Status {
    const int64_t hidden = ctx.GetInt("hidden");
    const int64_t layers = ctx.GetInt("layers");
    const std::string direction = ctx.GetString("direction");
    // Upper bounds keep a typo (layers: 1000000) an error rather than an
    // attempt to declare millions of parameters.
    constexpr int64_t kMaxHidden = 1 << 16, kMaxLayers = 64;
    if (hidden <= 0 || hidden > kMaxHidden) {
      return ctx.AttrError("hidden",
                           absl::StrCat("must be in [1, ", kMaxHidden, "]; got ", hidden));
    }
    if (layers < 1 || layers > kMaxLayers) {
      return ctx.AttrError("layers",
                           absl::StrCat("must be in [1, ", kMaxLayers, "]; got ", layers));
    }
    if (direction != "forward" && direction != "bidirectional") {
      return ctx.AttrError(
          "direction",
          absl::StrCat("must be \"forward\" or \"bidirectional\"; got \"", direction, "\""));
    }
    if (cell == CellKind::kRnn) {
      const std::string act = ctx.GetString("activation");
      if (act != "tanh" && act != "relu") {
        return ctx.AttrError("activation",
                             absl::StrCat("must be \"tanh\" or \"relu\"; got \"", act, "\""));
      }
    }
    const int64_t d = direction == "bidirectional" ? 2 : 1;

    RF_RETURN_IF_ERROR(ctx.ExpectRank(0, {"T", "N", "C"}));
    RF_RETURN_IF_ERROR(ctx.ExpectDtype(0, FLOAT32));
    RF_ASSIGN_OR_RETURN(const int64_t channels, ctx.KnownLastDim(0));
    if (channels <= 0) {
      return ctx.InputError(0, absl::StrCat("must have a positive feature width C; got ",
                                            ShapeToString(ctx.input_shape(0))));
    }
    const Dim t = ctx.input_shape(0)[0];
    const Dim n = ctx.input_shape(0)[1];
    RF_RETURN_IF_ERROR(CheckStateShape(ctx, 1, n, layers * d, hidden));
    if (cell == CellKind::kLstm) {
      RF_RETURN_IF_ERROR(CheckStateShape(ctx, 2, n, layers * d, hidden));
    }
    RF_RETURN_IF_ERROR(CheckSequenceMasks(ctx, cell == CellKind::kLstm ? 3 : 2, t, n));

    ctx.SetOutput(0, {t, n, Dim::Known(d * hidden)});
    ctx.SetOutput(1, {Dim::Known(layers * d), n, Dim::Known(hidden)});
    if (cell == CellKind::kLstm) {
      ctx.SetOutput(2, {Dim::Known(layers * d), n, Dim::Known(hidden)});
    }

    int64_t gates = 1;
    int64_t bias_rows = 1;
    if (cell == CellKind::kLstm) {
      gates = bias_rows = 4;
    } else if (cell == CellKind::kGru) {
      gates = 3;
      bias_rows = ctx.GetBool("linear_before_reset") ? 4 : 3;
    }
    const InitializerDef init = MakeInit("uniform", 1.0f / std::sqrt(static_cast<float>(hidden)));
    for (int64_t k = 0; k < layers; ++k) {
      const int64_t in = k == 0 ? channels : d * hidden;
      for (int64_t dir = 0; dir < d; ++dir) {
        const std::string prefix = absl::StrCat("l", k, dir == 0 ? "" : "_reverse", "/");
        ctx.AddParam(prefix + "w_x", {in, gates * hidden}, init);
        ctx.AddParam(prefix + "w_h", {hidden, gates * hidden}, init);
        ctx.AddParam(prefix + "b", {bias_rows, hidden}, init);
      }
    }
    return absl::OkStatus();
  };
}

std::string ParamsDocFor(const std::string& gates, const std::string& bias) {
  return absl::StrCat(
      "Per layer k = 0..layers-1 and direction (\"l{k}\" forward, "
      "\"l{k}_reverse\" reverse), in this order: \"l{k}/w_x\" [I_k, G*H] "
      "input weights with I_0 = C and I_k = D*H for k > 0; \"l{k}/w_h\" "
      "[H, G*H] recurrent weights; \"l{k}/b\" [Gb, H] bias. Dense oneDNN "
      "ldigo layout: column g*H + j feeds unit j of gate g; gates in the "
      "order ",
      gates, ". ", bias,
      " Initialised uniform in [-1/sqrt(H), 1/sqrt(H)] like PyTorch. "
      "PyTorch weights convert with conformance/torch_import.h.");
}

RF_REGISTER_OP("RNN")
    .Doc(
        "Elman recurrent layer(s) over a whole sequence: "
        "h_t = act(x_t W_x + h_{t-1} W_h + b), act = tanh or relu. "
        "Same function as torch.nn.RNN (whose two biases sum into b). "
        "Runs as one oneDNN vanilla_rnn primitive per layer.")
    .Input("x", "[T,N,C] input sequence (time-major).")
    .OptionalInput("h0",
                   "[L*D,N,H] initial hidden state, index layer*D + "
                   "direction; zeros (or the carried state) when absent.")
    .OptionalNonDifferentiableInput("lengths", kLengthsDoc)
    .OptionalNonDifferentiableInput("resets", kResetsDoc)
    .Output("y", "[T,N,D*H] last layer's hidden states at every step.")
    .Output("h_n",
            "[L*D,N,H] final hidden state of every layer/direction (a "
            "reverse direction's final state is the one after x[0]).")
    .Attr("hidden", AttrType::kInt, "Hidden width H (> 0).")
    .Attr("layers", AttrType::kInt, IntAttr(1), "Number of stacked layers L (>= 1).")
    .Attr("direction", AttrType::kString, StringAttr("forward"), kDirectionDoc)
    .AllowedValues({"forward", "bidirectional"})
    .Attr("precision", AttrType::kString, StringAttr("f32"), kPrecisionDoc)
    .AllowedValues({"f32", "bf16"})
    .Attr("activation", AttrType::kString, StringAttr("tanh"),
          "Cell non-linearity: \"tanh\" or \"relu\".")
    .AllowedValues({"tanh", "relu"})
    .ParamsDoc(ParamsDocFor("(single gate, G = 1)", "Gb = 1; b = PyTorch's bias_ih + bias_hh."))
    .CarriedState("h0", "h_n")
    .SetShapeFn(RecurrentShapeFn(CellKind::kRnn));

RF_REGISTER_OP("LSTM")
    .Doc(
        "Long short-term memory layer(s) over a whole sequence: "
        "i,f,o = sigmoid(.), c~ = tanh(.), c_t = f*c_{t-1} + i*c~, "
        "h_t = o*tanh(c_t), each gate = x_t W_x + h_{t-1} W_h + b. "
        "Same function as torch.nn.LSTM (no peephole, no projection). "
        "Runs as one oneDNN lstm primitive per layer.")
    .Input("x", "[T,N,C] input sequence (time-major).")
    .OptionalInput("h0",
                   "[L*D,N,H] initial hidden state, index layer*D + "
                   "direction; zeros (or the carried state) when absent.")
    .OptionalInput("c0",
                   "[L*D,N,H] initial cell state; zeros (or the carried "
                   "state) when absent.")
    .OptionalNonDifferentiableInput("lengths", kLengthsDoc)
    .OptionalNonDifferentiableInput("resets", kResetsDoc)
    .Output("y", "[T,N,D*H] last layer's hidden states at every step.")
    .Output("h_n", "[L*D,N,H] final hidden state of every layer/direction.")
    .Output("c_n", "[L*D,N,H] final cell state of every layer/direction.")
    .Attr("hidden", AttrType::kInt, "Hidden width H (> 0).")
    .Attr("layers", AttrType::kInt, IntAttr(1), "Number of stacked layers L (>= 1).")
    .Attr("direction", AttrType::kString, StringAttr("forward"), kDirectionDoc)
    .AllowedValues({"forward", "bidirectional"})
    .Attr("precision", AttrType::kString, StringAttr("f32"), kPrecisionDoc)
    .AllowedValues({"f32", "bf16"})
    .ParamsDoc(ParamsDocFor("i, f, c~, o (G = 4; the same as PyTorch's i, f, g, o)",
                            "Gb = 4; b = PyTorch's bias_ih + bias_hh."))
    .CarriedState("h0", "h_n")
    .CarriedState("c0", "c_n")
    .SetShapeFn(RecurrentShapeFn(CellKind::kLstm));

RF_REGISTER_OP("GRU")
    .Doc(
        "Gated recurrent unit layer(s) over a whole sequence: "
        "u,r = sigmoid(.), h_t = u*h_{t-1} + (1-u)*o_t. With "
        "linear_before_reset (default; PyTorch nn.GRU, Keras reset_after=True, "
        "oneDNN lbr_gru): o_t = tanh(x_t W_xo + b_o + r*(h_{t-1} W_ho + b_o')). "
        "Without (classic GRU, oneDNN vanilla_gru): "
        "o_t = tanh(x_t W_xo + (r*h_{t-1}) W_ho + b_o). "
        "Runs as one oneDNN primitive per layer.")
    .Input("x", "[T,N,C] input sequence (time-major).")
    .OptionalInput("h0",
                   "[L*D,N,H] initial hidden state, index layer*D + "
                   "direction; zeros (or the carried state) when absent.")
    .OptionalNonDifferentiableInput("lengths", kLengthsDoc)
    .OptionalNonDifferentiableInput("resets", kResetsDoc)
    .Output("y", "[T,N,D*H] last layer's hidden states at every step.")
    .Output("h_n", "[L*D,N,H] final hidden state of every layer/direction.")
    .Attr("hidden", AttrType::kInt, "Hidden width H (> 0).")
    .Attr("layers", AttrType::kInt, IntAttr(1), "Number of stacked layers L (>= 1).")
    .Attr("direction", AttrType::kString, StringAttr("forward"), kDirectionDoc)
    .AllowedValues({"forward", "bidirectional"})
    .Attr("precision", AttrType::kString, StringAttr("f32"), kPrecisionDoc)
    .AllowedValues({"f32", "bf16"})
    .Attr("linear_before_reset", AttrType::kBool, BoolAttr(true),
          "true: the reset gate multiplies (h W_ho + b_o') (PyTorch/Keras form, "
          "oneDNN lbr_gru); false: it multiplies h before W_ho (classic GRU, "
          "oneDNN vanilla_gru).")
    .ParamsDoc(ParamsDocFor("u (update, PyTorch z), r (reset), o (candidate, PyTorch n) (G = 3; "
                            "PyTorch's blocks are r, z, n)",
                            "Gb = 4 with linear_before_reset (rows u, r, o, o' = [b_iz+b_hz, "
                            "b_ir+b_hr, b_in, b_hn] from PyTorch), else Gb = 3 (rows u, r, o)."))
    .CarriedState("h0", "h_n")
    .SetShapeFn(RecurrentShapeFn(CellKind::kGru));

}  // namespace
}  // namespace rnnflow
