// The C++ graph builder produces the ModelDef a .pbtxt file parses to, and
// reports misuse as a Status from Build().
#include "rnnflow/graph/builder.h"

#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow {
namespace {

using google::protobuf::util::MessageDifferencer;

// Whether `a` and `b` are equal; `diff` says how they differ otherwise.
bool SameModel(const ModelDef& a, const ModelDef& b, std::string* diff) {
  MessageDifferencer d;
  d.ReportDifferencesToString(diff);
  return d.Compare(a, b);
}

// ModelToText -> ParseModelText gives back the same message.
void ExpectRoundTrip(const ModelDef& model) {
  const std::string text = ModelToText(model);
  auto parsed = ParseModelText(text, "roundtrip.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  std::string diff;
  EXPECT_TRUE(SameModel(model, parsed->model, &diff)) << diff << "\n" << text;
}

GraphBuilder TextbookBuilder() {
  GraphBuilder b("textbook_relu_rnn");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 1});
  TensorRef target = b.Input("target", FLOAT32, {"T", "N", 1});
  TensorRef w_xh = b.Param("W_xh", {1, 1}, ConstantInit(0.5f));
  TensorRef w_hh = b.Param("W_hh", {1, 1}, ConstantInit(0.2f));
  TensorRef b_h = b.Param("b_h", {1}, ConstantInit(0.1f));
  TensorRef w_hy = b.Param("W_hy", {1, 1}, ConstantInit(1.5f));
  TensorRef b_y = b.Param("b_y", {1}, ConstantInit(-0.5f));
  TensorRef h = b.State("h", {"N", 1}, "h_t");
  NodeRef xw = b.Node("xw", "MatMul", {x, w_xh});
  NodeRef hw = b.Node("hw", "MatMul", {h, w_hh});
  NodeRef pre = b.Node("pre", "Add", {xw, hw});
  NodeRef pre_b = b.Node("pre_b", "Add", {pre, b_h});
  NodeRef h_t = b.Node("h_t", "Relu", {pre_b});
  NodeRef yw = b.Node("yw", "MatMul", {h_t, w_hy});
  NodeRef y = b.Node("y", "Add", {yw, b_y});
  NodeRef loss = b.Node("loss", "MeanSquaredError", {y, target});
  b.Output(h_t);
  b.Output(y);
  b.Loss(loss);
  return b;
}

// Embedding 64 -> LSTM 256 -> LSTM 256 -> Dense -> SoftmaxCrossEntropy.
GraphBuilder CharLmBuilder() {
  GraphBuilder b("char_lm");
  TensorRef tokens = b.Input("tokens", INT32, {"T", "N"}, TOKENS);
  TensorRef targets = b.Input("targets", INT32, {"T", "N"}, NEXT_TOKENS);
  NodeRef emb = b.Node("embed", "Embedding", {tokens}, {{"vocab", 256}, {"dim", 64}});
  NodeRef lstm1 = b.Node("lstm1", "LSTM", {emb}, {{"hidden", 256}});
  NodeRef lstm2 = b.Node("lstm2", "LSTM", {lstm1}, {{"hidden", 256}, {"direction", "forward"}});
  NodeRef logits = b.Node("logits", "Dense", {lstm2}, {{"units", 256}, {"use_bias", true}});
  NodeRef loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, targets}, {{"ignore_label", -1}});
  b.Output(logits);
  b.Output(lstm2.out("h_n"));
  b.Output(lstm2.out(2));
  b.Loss(loss);
  TrainingDef& t = b.Training();
  t.mutable_adam()->set_beta2(0.99f);
  t.mutable_learning_rate()->set_base(2e-3f);
  t.mutable_learning_rate()->set_schedule("cosine");
  t.mutable_learning_rate()->set_warmup_steps(100);
  t.set_clip_global_norm(1.0f);
  t.set_truncation_steps(64);
  t.set_streams_per_worker(32);
  t.set_steps(1000);
  t.set_seed(42);
  return b;
}

constexpr char kCharLmText[] = R"pbtxt(
format_version: 1
name: "char_lm"
input { name: "tokens" dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 64 } } }
node { name: "lstm1" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 256 } } }
node { name: "lstm2" op: "LSTM" input: ["lstm1"]
       attr { key: "direction" value { s: "forward" } }
       attr { key: "hidden" value { i: 256 } } }
node { name: "logits" op: "Dense" input: "lstm2"
       attr { key: "units" value { i: 256 } } attr { key: "use_bias" value { b: true } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"]
       attr { key: "ignore_label" value { i: -1 } } }
output: ["logits", "lstm2:1", "lstm2:2"]
loss: "loss"
training {
  adam { beta2: 0.99 }
  learning_rate { base: 0.002 schedule: "cosine" warmup_steps: 100 }
  clip_global_norm: 1
  truncation_steps: 64
  streams_per_worker: 32
  steps: 1000
  seed: 42
}
)pbtxt";

TEST(BuilderTest, TextbookCellEqualsTheModelFile) {
  auto built = TextbookBuilder().Build();
  ASSERT_TRUE(built.ok()) << built.status();
  auto file = LoadModelFile(RNNFLOW_SOURCE_DIR "/tests/testdata/textbook_relu_rnn.pbtxt");
  ASSERT_TRUE(file.ok()) << file.status();
  std::string diff;
  EXPECT_TRUE(SameModel(*built, file->model, &diff)) << diff;
  ExpectRoundTrip(*built);
  // The comparison does see a one-value difference.
  ModelDef changed = *built;
  changed.mutable_param(1)->mutable_init()->set_value(0.25f);
  diff.clear();
  EXPECT_FALSE(SameModel(changed, file->model, &diff));
  EXPECT_TRUE(absl::StrContains(diff, "param[1].init.value")) << diff;
}

TEST(BuilderTest, TextbookGraphHasTheRecurrentRegion) {
  auto graph = TextbookBuilder().BuildGraph();
  ASSERT_TRUE(graph.ok()) << graph.status();
  int recurrent = 0;
  for (const NodeInfo& n : graph->nodes()) recurrent += n.recurrent;
  EXPECT_EQ(recurrent, 4);  // hw, pre, pre_b, h_t
  ASSERT_EQ(graph->states().size(), 1u);
  EXPECT_EQ(graph->tensor(graph->states()[0].update).name, "h_t");
}

TEST(BuilderTest, CharLmEqualsTheHandWrittenModelFile) {
  auto built = CharLmBuilder().Build();
  ASSERT_TRUE(built.ok()) << built.status();
  auto parsed = ParseModelText(kCharLmText, "char_lm.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::string diff;
  EXPECT_TRUE(SameModel(*built, parsed->model, &diff)) << diff;
  ExpectRoundTrip(*built);
}

TEST(BuilderTest, CharLmGraphShapesAndParameters) {
  auto graph = CharLmBuilder().BuildGraph();
  ASSERT_TRUE(graph.ok()) << graph.status();
  const Graph& g = *graph;
  EXPECT_EQ(ShapeToString(g.tensor(g.FindTensor("logits")).shape), "[T,N,256]");
  EXPECT_EQ(ShapeToString(g.tensor(g.FindTensor("lstm2:1")).shape), "[1,N,256]");
  EXPECT_EQ(ShapeToString(g.tensor(g.FindTensor("embed")).shape), "[T,N,64]");
  ASSERT_GE(g.loss(), 0);
  EXPECT_EQ(g.tensor(g.loss()).name, "loss");
  // embed 256*64; lstm1 64*1024 + 256*1024 + 4*256; lstm2 256*1024 * 2 + 4*256;
  // logits 256*256 + 256.
  EXPECT_EQ(g.NumParameters(), 16384 + 328704 + 525312 + 65792);
}

TEST(BuilderTest, AttributeValuesConvertToTheirAttrValueFields) {
  EXPECT_EQ(AttrArg(3).value().i(), 3);
  EXPECT_EQ(AttrArg(int64_t{1} << 40).value().i(), int64_t{1} << 40);
  EXPECT_EQ(AttrArg(0.25).value().f(), 0.25f);
  EXPECT_EQ(AttrArg(0.5f).value().f(), 0.5f);
  EXPECT_EQ(AttrArg(true).value().value_case(), AttrValue::kB);
  EXPECT_EQ(AttrArg("relu").value().s(), "relu");
  EXPECT_EQ(AttrArg(std::string("tanh")).value().s(), "tanh");
  EXPECT_EQ(AttrArg(std::vector<int64_t>{1, 2}).value().ints().i_size(), 2);
  EXPECT_EQ(AttrArg(std::vector<int>{}).value().value_case(), AttrValue::kInts);
  EXPECT_EQ(AttrArg(std::vector<float>{0.5f}).value().floats().f(0), 0.5f);
  EXPECT_EQ(AttrArg(std::vector<std::string>{"a", "b"}).value().strings().s(1), "b");

  // Every kind survives the text round trip.
  GraphBuilder b("attrs");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
  b.Node("n", "Custom", {x},
         {{"i", 7},
          {"f", 1.5},
          {"s", "str"},
          {"b", false},
          {"ints", std::vector<int64_t>{1, -2}},
          {"floats", std::vector<float>{0.5f}},
          {"strings", std::vector<std::string>{"u", "v"}}});
  ExpectRoundTrip(b.model());
}

TEST(BuilderTest, OptionalInputsCanBeSkipped) {
  GraphBuilder b("skip");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 8});
  TensorRef c0 = b.Input("c0", FLOAT32, {1, "N", 4});
  NodeRef lstm = b.Node("lstm", "LSTM", {x, TensorRef::Absent(), c0}, {{"hidden", 4}});
  b.Output(lstm);
  auto model = b.Build({/*require_loss=*/false});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->node(0).input_size(), 3);
  EXPECT_EQ(model->node(0).input(1), "");
  ExpectRoundTrip(*model);
}

TEST(BuilderTest, StateUpdateCanBeSetOnceTheTensorExists) {
  GraphBuilder b("cell");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 3});
  TensorRef h = b.State("h", {"N", 3});
  NodeRef sum = b.Node("sum", "Add", {x, h});
  NodeRef h_t = b.Node("h_t", "Tanh", {sum});
  b.SetStateUpdate(h, h_t);
  b.Output(h_t);
  auto model = b.Build({/*require_loss=*/false});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->state(0).update(), "h_t");
}

// Builds `b` and returns its error message ("" when it builds).
std::string BuildError(const GraphBuilder& b, bool require_loss = false) {
  auto model = b.Build({require_loss});
  return model.ok() ? "" : std::string(model.status().message());
}

TEST(BuilderTest, UnknownOpIsAStatus) {
  GraphBuilder b("m");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
  b.Output(b.Node("d", "Dens", {x}, {{"units", 3}}));
  const std::string err = BuildError(b);
  EXPECT_TRUE(absl::StartsWith(err, "model 'm': node 'd': unknown op 'Dens'; known ops: ")) << err;
  EXPECT_TRUE(absl::StrContains(err, "Dense")) << err;
}

TEST(BuilderTest, BadAttributesAreStatuses) {
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Node("d", "Dense", {x}, {{"units", "many"}}));
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'd' (Dense): attribute 'units' must be int; "
              "got \"many\"");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Node("d", "Dense", {x}, {{"units", 3}, {"unit", 3}}));
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'd' (Dense): unknown attribute 'unit'; Dense "
              "has: units, use_bias");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Node("d", "Dense", {x}, {{"units", 3}, {"units", 4}}));
    EXPECT_EQ(BuildError(b), "model 'm': node 'd' (Dense): attribute 'units' is given twice");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Node("d", "Dense", {x}, {{"units", 0}}));
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'd' (Dense): attribute 'units' must be "
              "positive; got 0");
  }
}

TEST(BuilderTest, BadHandlesAreStatuses) {
  {
    GraphBuilder b("m");
    b.Output(b.Node("d", "Relu", {TensorRef()}));
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'd' (Relu): input 0 is an invalid tensor handle "
              "(a default-constructed TensorRef or one of another "
              "GraphBuilder)");
  }
  {
    GraphBuilder other("other");
    TensorRef y = other.Input("y", FLOAT32, {"T", "N", 4});
    GraphBuilder b("m");
    b.Output(b.Node("d", "Relu", {y}));
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'd' (Relu): input 0: tensor 'y' belongs to "
              "another GraphBuilder");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    NodeRef d = b.Node("d", "Dense", {x}, {{"units", 3}});
    b.Output(d.out(2));
    EXPECT_EQ(BuildError(b),
              "model 'm': output: node 'd' (Dense) has no output 2; its "
              "outputs are 0 (y)");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    NodeRef l = b.Node("l", "LSTM", {x}, {{"hidden", 3}});
    b.Node("r", "Relu", {l.out("h")});
    EXPECT_EQ(BuildError(b),
              "model 'm': node 'r' (Relu): input 0: node 'l' (LSTM) has no "
              "output 'h'; its outputs are 0 (y), 1 (h_n), 2 (c_n)");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    NodeRef a = b.Node("a", "MeanSquaredError", {x, x});
    NodeRef c = b.Node("c", "MeanSquaredError", {x, x});
    b.Loss(a);
    b.Loss(c);
    EXPECT_EQ(BuildError(b), "model 'm': loss is set twice: 'a', then 'c'");
  }
  {
    GraphBuilder b("m");
    b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Named("nope"));
    EXPECT_EQ(BuildError(b),
              "model 'm': output 'nope' is not a graph input, parameter, state "
              "or node output");
  }
  {
    GraphBuilder b("m");
    TensorRef x = b.Input("x", FLOAT32, {"T", "N", 4});
    b.Output(b.Node("r", "Relu", {x}));
    EXPECT_EQ(BuildError(b, /*require_loss=*/true),
              "model 'm': model has no loss: set `loss:` to the output of a loss node "
              "(MeanSquaredError, SigmoidCrossEntropy, SoftmaxCrossEntropy)");
  }
}

TEST(BuilderTest, TheFirstBuilderErrorWins) {
  GraphBuilder b("m");
  b.Node("a", "Relu", {TensorRef()});
  b.Node("b", "Relu", {TensorRef()});
  EXPECT_TRUE(absl::StartsWith(BuildError(b), "model 'm': node 'a' (Relu): input 0"))
      << BuildError(b);
}

}  // namespace
}  // namespace rnnflow
