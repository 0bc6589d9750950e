// Every way a model file can be wrong gets one exact, positioned message:
// "model.pbtxt:LINE:COL: what is wrong and how to fix it". Each case below is
// a whole model; the position points at the offending field (the input
// entry, the attribute entry, the node, the dim). Garbage never crashes.
#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/graph/op_registry.h"

namespace rnnflow {
namespace {

// The first error of parsing and building `text`, or "OK".
std::string FirstError(const std::string& text) {
  auto loaded = ParseModelText(text, "model.pbtxt");
  if (!loaded.ok()) return std::string(loaded.status().message());
  auto graph = Graph::Build(loaded->model, loaded->source);
  if (!graph.ok()) return std::string(graph.status().message());
  return "OK";
}

struct ErrorCase {
  const char* name;
  const char* text;
  const char* expected;  // the whole message
  bool prefix = false;   // `expected` is only its start
};

// Line 1 is the line of `R"pbtxt(`.
const ErrorCase kCases[] = {
    {"SyntaxError",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N" }
)pbtxt",
     "model.pbtxt:2:49: syntax error: Expected \",\", found \"}\"."},
    {"WrongLiteralType",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense"
  input: "x"
  attr { key: "units" value { i: 3.5 } }
}
)pbtxt",
     "model.pbtxt:7:34: syntax error: Expected integer, got: 3.5"},
    {"UnclosedBrace",
     R"pbtxt(name: "m"
node { name: "a" op: "Relu" input: "x"
)pbtxt",
     "model.pbtxt:3:1: syntax error: Expected identifier, got the end of the file "
     "(is a '}' missing?)"},
    {"UnknownField",
     R"pbtxt(name: "m"
input { name: "x" dtyp: FLOAT32 }
)pbtxt",
     "model.pbtxt:2:19: unknown field 'dtyp' in InputDef; expected one of: name, "
     "dtype, dim, feed"},
    {"UnknownEnumValue",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT64 dim: ["T"] }
)pbtxt",
     "model.pbtxt:2:26: unknown dtype 'FLOAT64'; expected one of: FLOAT32, INT32"},
    {"UnknownOp",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense2"
  input: "x"
}
)pbtxt",
     // The list of known ops grows; it starts with the basic ones.
     "model.pbtxt:5:3: node 'd': unknown op 'Dense2'; known ops: Add, ", true},
    {"UnknownAttribute",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense"
  input: "x"
  attr { key: "units" value { i: 4 } }
  attr { key: "unitz" value { i: 4 } }
}
)pbtxt",
     "model.pbtxt:8:3: node 'd' (Dense): unknown attribute 'unitz'; Dense has: "
     "units, use_bias"},
    {"WrongAttributeType",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense"
  input: "x"
  attr { key: "use_bias" value { b: false } }
  attr { key: "units" value { s: "4" } }
}
)pbtxt",
     "model.pbtxt:8:3: node 'd' (Dense): attribute 'units' must be int; got \"4\""},
    {"MissingRequiredAttribute",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense"
  input: "x"
}
)pbtxt",
     "model.pbtxt:3:1: node 'd' (Dense): missing required attribute 'units' (int): "
     "output width"},
    {"AttributeValueNotAllowed",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "enc"
  op: "LSTM"
  input: "x"
  attr { key: "hidden" value { i: 8 } }
  attr { key: "direction" value { s: "backward" } }
}
)pbtxt",
     "model.pbtxt:8:3: node 'enc' (LSTM): attribute 'direction' must be one of "
     "\"forward\", \"bidirectional\"; got \"backward\""},
    {"AttributeOutOfRange",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d"
  op: "Dense"
  input: "x"
  attr { key: "units" value { i: -2 } }
}
)pbtxt",
     "model.pbtxt:7:3: node 'd' (Dense): attribute 'units' must be positive; got -2"},
    {"DuplicateNodeName",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "a" op: "Relu" input: "x" }
node { name: "a" op: "Tanh" input: "x" }
)pbtxt",
     "model.pbtxt:4:1: duplicate name 'a': already used by a node (line 3)"},
    {"NodeNameClashesWithInput",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "x" op: "Relu" input: "x" }
)pbtxt",
     "model.pbtxt:3:1: duplicate name 'x': already used by a graph input (line 2)"},
    {"NodeNameClashesWithParam",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
param { name: "w" shape: [3, 3] }
node { name: "w" op: "MatMul" input: ["x", "w"] }
)pbtxt",
     "model.pbtxt:4:1: duplicate name 'w': already used by a parameter (line 3)"},
    {"EmptyNodeName",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { op: "Relu" input: "x" }
)pbtxt",
     "model.pbtxt:3:1: node #0 (Relu) has no name"},
    {"InvalidNodeName",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "my node" op: "Relu" input: "x" }
)pbtxt",
     "model.pbtxt:3:1: node name 'my node' is invalid: use letters, digits, '_', "
     "'/', '.' or '-'"},
    {"DanglingInput",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "a"
  op: "Add"
  input: "x"
  input: "nope"
}
)pbtxt",
     "model.pbtxt:7:3: node 'a' (Add): input 'nope' is not a graph input, parameter, "
     "state or node output"},
    {"BadOutputIndex",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "enc" op: "LSTM" input: "x" attr { key: "hidden" value { i: 8 } } }
node { name: "r" op: "Relu" input: ["enc:7"] }
)pbtxt",
     "model.pbtxt:4:37: node 'r' (Relu): input 'enc:7': node 'enc' (LSTM) has no "
     "output '7'; its outputs are 0 (y), 1 (h_n), 2 (c_n)"},
    {"TooManyInputs",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "r" op: "Relu" input: ["x", "x"] }
)pbtxt",
     "model.pbtxt:3:42: node 'r' (Relu): takes at most 1 input (x); got 2"},
    {"MissingInput",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "mm" op: "MatMul" input: ["x"] }
)pbtxt",
     "model.pbtxt:3:1: node 'mm' (MatMul): missing input 'b' (input 1): FLOAT32 [K, "
     "M]"},
    {"EmptyInput",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "a" op: "Add" input: ["x", ""] }
)pbtxt",
     "model.pbtxt:3:41: node 'a' (Add): input 1 ('b') is empty; only optional inputs "
     "may be left empty"},
    {"CycleNotThroughState",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "a" op: "Add" input: ["x", "c"] }
node { name: "b" op: "Tanh" input: "a" }
node { name: "c" op: "Relu" input: "b" }
)pbtxt",
     "model.pbtxt:4:1: node 'b' (Tanh): cycle not through a declared state: b -> c "
     "-> a -> b; a recurrence must read its previous value through a `state` entry"},
    {"StateReadOutsideRecurrence",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
state { name: "h" dim: ["N", "3"] update: "h_t" }
node { name: "a" op: "Add" input: ["x", "h"] }
node { name: "h_t" op: "Tanh" input: "a" }
node { name: "peek" op: "Relu" input: "h" }
)pbtxt",
     "model.pbtxt:6:32: node 'peek' (Relu): reads state 'h' but does not lead to its "
     "update; outside the recurrence read the update 'h_t' instead"},
    {"StateUpdateIndependentOfState",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
state {
  name: "h"
  dim: ["N", "3"]
  update: "h_t"
}
node { name: "h_t" op: "Tanh" input: "x" }
)pbtxt",
     "model.pbtxt:6:3: state 'h': its update 'h_t' does not depend on the state, so "
     "nothing recurs; the update must be computed from 'h'"},
    {"StateUpdateUnknown",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
state { name: "h" dim: ["N", "3"] update: "h_tt" }
node { name: "a" op: "Add" input: ["x", "h"] }
node { name: "h_t" op: "Tanh" input: "a" }
)pbtxt",
     "model.pbtxt:3:35: state 'h': update 'h_tt' is not a graph input, parameter, "
     "state or node output"},
    {"StateInitShapeMismatch",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "h0" dtype: FLOAT32 dim: ["T", "N", "3"] }
state { name: "h" dim: ["N", "3"] update: "h_t" init: "h0" }
node { name: "a" op: "Add" input: ["x", "h"] }
node { name: "h_t" op: "Tanh" input: "a" }
)pbtxt",
     "model.pbtxt:4:49: state 'h': init 'h0' has shape [T,N,3]; expected the state's "
     "shape [N,3] without a time axis"},
    {"StateWithoutUpdate",
     R"pbtxt(name: "m"
state { name: "h" dim: ["N", "3"] }
)pbtxt",
     "model.pbtxt:2:1: state 'h' has no update: name the tensor that becomes the "
     "state at the next step"},
    {"ShapeMismatch",
     R"pbtxt(name: "m"
input { name: "a" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "b" dtype: FLOAT32 dim: ["T", "N", "4"] }
node {
  name: "sum"
  op: "Add"
  input: "a"
  input: "b"
}
)pbtxt",
     "model.pbtxt:8:3: node 'sum' (Add): input 'b' has shape [T,N,4], which must "
     "equal the shape of input 'a' [T,N,3] or a suffix of it (broadcast over leading "
     "dims)"},
    {"StateShapeMismatch",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
param { name: "w" shape: [3, 5] }
state { name: "h" dim: ["N", "3"] update: "h_t" }
node { name: "a" op: "Add" input: ["x", "h"] }
node { name: "h_t" op: "MatMul" input: ["a", "w"] }
)pbtxt",
     "model.pbtxt:4:35: state 'h' has per-step shape [N,3] but its update 'h_t' has "
     "per-step shape [N,5]"},
    {"WrongDtypeIntoEmbedding",
     R"pbtxt(name: "m"
input { name: "ids" dtype: FLOAT32 dim: ["T", "N"] }
node {
  name: "emb"
  op: "Embedding"
  input: "ids"
  attr { key: "vocab" value { i: 100 } }
  attr { key: "dim" value { i: 8 } }
}
)pbtxt",
     "model.pbtxt:6:3: node 'emb' (Embedding): input 'ids' must be INT32; got "
     "FLOAT32"},
    {"LstmRankError",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["N", "128"] }
node {
  name: "enc"
  op: "LSTM"
  input: "x"
  attr { key: "hidden" value { i: 16 } }
}
)pbtxt",
     "model.pbtxt:6:3: node 'enc' (LSTM): input 'x' must have rank 3 [T,N,C]; got "
     "[N,C=128]"},
    {"LstmRankErrorKnownBatch",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["32", "128"] }
node {
  name: "enc"
  op: "LSTM"
  attr { key: "hidden" value { i: 16 } }
  input: "x"
}
)pbtxt",
     "model.pbtxt:7:3: node 'enc' (LSTM): input 'x' must have rank 3 [T,N,C]; got "
     "[N=32,C=128]"},
    {"MissingLoss",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "r" op: "Relu" input: "x" }
output: "r"
)pbtxt",
     "model.pbtxt: model has no loss: set `loss:` to the output of a loss node "
     "(MeanSquaredError, SigmoidCrossEntropy, SoftmaxCrossEntropy)"},
    {"LossNotALossOp",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "r" op: "Relu" input: "x" }
loss: "r"
)pbtxt",
     "model.pbtxt:4:1: loss 'r' must be the scalar output of a loss op; got op Relu "
     "with shape [T,N,3]"},
    {"LossIsAnInput",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
loss: "x"
)pbtxt",
     "model.pbtxt:3:1: loss 'x' must be the scalar output of a loss op; got graph "
     "input 'x'"},
    {"UnknownLossTensor",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "mse" op: "MeanSquaredError" input: ["x", "y"] }
loss: "mes"
)pbtxt",
     "model.pbtxt:5:1: loss 'mes' is not a graph input, parameter, state or node "
     "output"},
    {"UnknownOutputTensor",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "mse" op: "MeanSquaredError" input: ["x", "y"] }
output: ["mse", "r"]
loss: "mse"
)pbtxt",
     "model.pbtxt:5:17: output 'r' is not a graph input, parameter, state or node "
     "output"},
    {"ZeroDim",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "0"] }
)pbtxt",
     "model.pbtxt:2:50: graph input 'x': dimension 2 must be positive; got 0"},
    {"NegativeDim",
     R"pbtxt(name: "m"
input {
  name: "x"
  dtype: FLOAT32
  dim: ["T", "N", "-3"]
}
)pbtxt",
     "model.pbtxt:5:19: graph input 'x': dimension 2 must be positive; got -3"},
    {"MalformedDim",
     R"pbtxt(name: "m"
state { name: "h" dim: ["N", "3x"] update: "h" }
)pbtxt",
     "model.pbtxt:2:30: state 'h': dimension 1 is '3x'; expected a positive integer "
     "or a symbol like T"},
    {"DimInAMultiLineListWithComments",
     R"pbtxt(name: "m"
input {
  name: "x"
  dtype: FLOAT32
  dim: [
    "T",  # time
    "N",  # streams
    "", "3"
  ]
}
)pbtxt",
     "model.pbtxt:8:5: graph input 'x': dimension 2 is ''; expected a positive integer or "
     "a symbol like T"},
    {"TabIndentedDim",
     "name: \"m\"\ninput {\n\tname: \"x\"\n\tdtype: FLOAT32\n\tdim: [\"T\", \"N\", \"0\"]\n}\n",
     "model.pbtxt:5:25: graph input 'x': dimension 2 must be positive; got 0"},
    {"SecondAttrInAListOfEntries",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node {
  name: "d" op: "Dense" input: "x"
  attr [{ key: "units" value { i: 4 } },
        { key: "use_bias" value { i: 1 } }]
}
)pbtxt",
     "model.pbtxt:6:11: node 'd' (Dense): attribute 'use_bias' must be bool; got 1"},
    {"InputWithoutDtype",
     R"pbtxt(name: "m"
input { name: "x" dim: ["T", "N", "3"] }
)pbtxt",
     "model.pbtxt:2:1: graph input 'x' has no dtype; expected FLOAT32 or INT32"},
    {"ParamNonPositiveShape",
     R"pbtxt(name: "m"
param { name: "w" shape: [3, 0] }
)pbtxt",
     "model.pbtxt:2:30: parameter 'w': dimension 1 must be positive; got [3,0]"},
    {"UnknownInitializer",
     R"pbtxt(name: "m"
param { name: "w" shape: [3, 3] init { kind: "xavier" } }
)pbtxt",
     "model.pbtxt:2:1: parameter 'w': unknown initializer 'xavier'; expected zeros, "
     "ones, constant, uniform, normal, or glorot_uniform"},
    {"UnsupportedFormatVersion",
     R"pbtxt(format_version: 2
name: "m"
)pbtxt",
     "model.pbtxt: format_version 2 is not supported; this rnnflow reads version 1"},
    {"UnknownLrSchedule",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "mse" op: "MeanSquaredError" input: ["x", "y"] }
loss: "mse"
training {
  adam {}
  learning_rate { base: 0.01 schedule: "linear" }
}
)pbtxt",
     "model.pbtxt:6:1: training: unknown learning-rate schedule 'linear'; expected "
     "constant, exponential, step or cosine"},
    {"NegativeTruncationSteps",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "mse" op: "MeanSquaredError" input: ["x", "y"] }
loss: "mse"
training {
  sgd { momentum: 0.9 }
  truncation_steps: -5
}
)pbtxt",
     "model.pbtxt:6:1: training: truncation_steps must be >= 0 (0 means the "
     "default); got -5"},
    {"FusedLayerInsideRecurrence",
     R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
state { name: "h" dim: ["N", "3"] update: "h_t" }
node { name: "a" op: "Add" input: ["x", "h"] }
node { name: "h_t" op: "RNN" input: "a" attr { key: "hidden" value { i: 3 } } }
)pbtxt",
     "model.pbtxt:5:1: node 'h_t' (RNN): a fused recurrent layer cannot sit inside a "
     "custom recurrence (it runs over whole sequences); build the cell from "
     "primitive ops instead"},
};

class ModelErrorsTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ModelErrorsTest, ExactMessage) {
  const ErrorCase& c = GetParam();
  const std::string message = FirstError(c.text);
  if (c.prefix) {
    EXPECT_TRUE(absl::StartsWith(message, c.expected)) << message << "\n" << c.text;
  } else {
    EXPECT_EQ(message, c.expected) << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, ModelErrorsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(ModelErrorsTest, UnknownOpListsTheKnownOps) {
  const std::string message = FirstError(R"pbtxt(name: "m"
input { name: "x" dtype: FLOAT32 dim: ["T", "N", "3"] }
node { name: "enc" op: "Lstm" input: "x" }
)pbtxt");
  EXPECT_TRUE(absl::StartsWith(message,
                               "model.pbtxt:3:20: node 'enc': unknown op 'Lstm'; "
                               "known ops: "))
      << message;
  for (const char* op : {"Dense, ", "Embedding", "LSTM", "SoftmaxCrossEntropy", "Tanh"}) {
    EXPECT_TRUE(absl::StrContains(message, op)) << op << " in " << message;
  }
}

TEST(ModelErrorsTest, CaseNamesAreUniqueAndEnough) {
  std::set<std::string> names;
  for (const ErrorCase& c : kCases) EXPECT_TRUE(names.insert(c.name).second) << c.name;
  EXPECT_GE(names.size(), 25u);
}

// A valid model with comments, lists, nested messages and a training block.
constexpr char kValidModel[] = R"pbtxt(# A character LM with a custom cell on top.
format_version: 1
name: "fuzz_base"
input { name: "tokens" dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
param { name: "w_h" shape: [16, 16] init { kind: "uniform" scale: 0.1 } }
state { name: "h" dim: ["N", "16"] update: "h_t" }
node { name: "emb" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 32 } } attr { key: "dim" value { i: 8 } } }
node { name: "enc" op: "LSTM" input: ["emb"] attr { key: "hidden" value { i: 16 } } }
node { name: "hw" op: "MatMul" input: ["h", "w_h"] }
node { name: "pre" op: "Add" input: ["enc", "hw"] }
node { name: "h_t" op: "Tanh" input: "pre" }
node {
  name: "logits"
  op: "Dense"
  input: "h_t"
  attr { key: "units" value { i: 32 } }
  attr { key: "use_bias" value { b: false } }
}
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
output: ["logits", "enc:1"]
loss: "loss"
training {
  adam { beta1: 0.9 }
  learning_rate { base: 0.01 schedule: "cosine" warmup_steps: 10 }
  truncation_steps: 16
  streams_per_worker: 4
}
)pbtxt";

TEST(ModelErrorsTest, TheFuzzBaseIsValid) { EXPECT_EQ(FirstError(kValidModel), "OK"); }

// Random byte edits of a valid model: every result is OK or one positioned
// message, never a crash.
TEST(ModelErrorsTest, GarbageNeverCrashes) {
  const std::string base = kValidModel;
  const std::string alphabet = "{}[]:,\"'#\\\n -0123456789abcxyzTN.";
  std::mt19937 rng(20240611);
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 6) {
        case 0:
          text[at] = static_cast<char>(rng() % 256);
          break;  // any byte
        case 1:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 2:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 3:
          text.erase(at, 1 + rng() % 8);
          break;
        case 4:
          text.resize(at);
          break;   // truncate
        case 5: {  // duplicate a line-sized chunk
          const size_t len = std::min<size_t>(1 + rng() % 60, text.size() - at);
          text.insert(rng() % text.size(), text.substr(at, len));
          break;
        }
      }
    }
    const std::string message = FirstError(text);
    if (message == "OK") {
      ++ok;
      continue;
    }
    ++errors;
    EXPECT_TRUE(absl::StartsWith(message, "model.pbtxt:")) << message << "\n" << text;
    EXPECT_GT(message.size(), std::string("model.pbtxt: ").size()) << text;
  }
  EXPECT_GT(errors, 300);  // most edits break something
  EXPECT_GT(ok, 0);        // and some (in comments, numbers) do not
}

// Valid syntax, wrong meaning: ops swapped for other registered ops, integers
// replaced by extreme values, inputs rewired. Shape functions must reject,
// not crash.
TEST(ModelErrorsTest, SemanticMutationsNeverCrash) {
  auto loaded = ParseModelText(kValidModel, "model.pbtxt");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<std::string> ops = OpRegistry::Global().Names();
  const int64_t extremes[] = {-1, 0, 1, 2, 3, 7, 64, int64_t{1} << 40, INT64_MAX, INT64_MIN};
  std::vector<std::string> names = {"tokens", "targets", "w_h", "h", "enc:1", "enc:2", ""};
  for (const NodeDef& n : loaded->model.node()) names.push_back(n.name());
  std::mt19937 rng(5);
  // The fused RNN schemas bound `layers` and `hidden`, so extreme values
  // are errors, not attempts to declare billions of parameters.
  auto extreme = [&](const std::string&) { return extremes[rng() % 10]; };
  int ok = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    ModelDef m = loaded->model;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      NodeDef& node = *m.mutable_node(static_cast<int>(rng() % m.node_size()));
      switch (rng() % 4) {
        case 0:
          node.set_op(ops[rng() % ops.size()]);
          break;
        case 1:
          for (auto& [key, value] : *node.mutable_attr()) {
            if (value.value_case() == AttrValue::kI) value.set_i(extreme(key));
          }
          break;
        case 2: {
          const char* keys[] = {"axis", "begin", "size", "layers", "hidden", "units"};
          const std::string key = keys[rng() % 6];
          AttrValue v;
          v.set_i(extreme(key));
          (*node.mutable_attr())[key] = v;
          break;
        }
        case 3:
          if (node.input_size() > 0) {
            node.set_input(static_cast<int>(rng() % node.input_size()),
                           names[rng() % names.size()]);
          } else {
            node.add_input(names[rng() % names.size()]);
          }
          break;
      }
    }
    auto graph = Graph::Build(m, loaded->source);
    if (graph.ok()) {
      ++ok;
    } else {
      EXPECT_TRUE(absl::StartsWith(graph.status().message(), "model.pbtxt:")) << graph.status();
    }
  }
  EXPECT_LT(ok, 3000);
}

}  // namespace
}  // namespace rnnflow
