// Shape functions and schemas of the basic ops (graph/op_defs_basic.cc):
// output shapes, parameter slots and the exact error messages.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/graph/op_registry.h"
#include "tests/testing/gradient_check.h"

namespace rnnflow {
namespace {

Dim S(const char* symbol) { return Dim::Symbol(symbol); }
Dim K(int64_t n) { return Dim::Known(n); }

// The shape fn's error message, or "OK".
std::string Error(absl::string_view op, const NodeDef& node, const std::vector<SymShape>& shapes,
                  const std::vector<DataType>& dtypes) {
  auto r = RunShapeFn(op, node, shapes, dtypes);
  return r.ok() ? "OK" : std::string(r.status().message());
}

std::string Out(absl::string_view op, const NodeDef& node, const std::vector<SymShape>& shapes,
                const std::vector<DataType>& dtypes, int output = 0) {
  auto r = RunShapeFn(op, node, shapes, dtypes);
  if (!r.ok()) return std::string(r.status().message());
  return ShapeToString(r->output_shapes[output]);
}

const SymShape kTN4 = {S("T"), S("N"), K(4)};

TEST(OpShapeTest, Embedding) {
  NodeDef node = MakeNode({{"vocab", IntAttr(100)}, {"dim", IntAttr(16)}});
  auto r = RunShapeFn("Embedding", node, {{S("T"), S("N")}}, {INT32});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ShapeToString(r->output_shapes[0]), "[T,N,16]");
  ASSERT_EQ(r->params.size(), 1u);
  EXPECT_EQ(r->params[0].name, "table");
  EXPECT_EQ(r->params[0].shape, (Shape{100, 16}));
  EXPECT_EQ(r->params[0].init.kind(), "uniform");
  EXPECT_FLOAT_EQ(r->params[0].init.scale(), 0.1f);
  EXPECT_EQ(Error("Embedding", node, {{S("T"), S("N")}}, {FLOAT32}),
            "input 'ids' must be INT32; got FLOAT32");
  EXPECT_EQ(Error("Embedding", MakeNode({{"vocab", IntAttr(-3)}, {"dim", IntAttr(4)}}), {{S("N")}},
                  {INT32}),
            "attribute 'vocab' must be positive; got -3");
  EXPECT_EQ(Error("Embedding", MakeNode({{"vocab", IntAttr(3)}}), {{S("N")}}, {INT32}),
            "attribute 'dim' is required");
}

TEST(OpShapeTest, Dense) {
  NodeDef node = MakeNode({{"units", IntAttr(8)}});
  auto r = RunShapeFn("Dense", node, {{S("T"), S("N"), K(16)}}, {FLOAT32});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ShapeToString(r->output_shapes[0]), "[T,N,8]");
  ASSERT_EQ(r->params.size(), 2u);
  EXPECT_EQ(r->params[0].name, "kernel");
  EXPECT_EQ(r->params[0].shape, (Shape{16, 8}));
  EXPECT_EQ(r->params[0].init.kind(), "glorot_uniform");
  EXPECT_EQ(r->params[1].name, "bias");
  EXPECT_EQ(r->params[1].shape, (Shape{8}));
  EXPECT_EQ(r->params[1].init.kind(), "zeros");

  auto no_bias =
      RunShapeFn("Dense", MakeNode({{"units", IntAttr(8)}, {"use_bias", BoolAttr(false)}}),
                 {{S("N"), K(3)}}, {FLOAT32});
  ASSERT_TRUE(no_bias.ok());
  EXPECT_EQ(no_bias->params.size(), 1u);
  EXPECT_EQ(ShapeToString(no_bias->output_shapes[0]), "[N,8]");

  EXPECT_EQ(Error("Dense", node, {{S("T"), S("N"), S("C")}}, {FLOAT32}),
            "input 'x' must have a known last (feature) dimension; got [T,N,C]");
  EXPECT_EQ(Error("Dense", node, {{}}, {FLOAT32}), "input 'x' must have rank >= 1; got []");
  EXPECT_EQ(Error("Dense", node, {kTN4}, {INT32}), "input 'x' must be FLOAT32; got INT32");
  EXPECT_EQ(Error("Dense", MakeNode({{"units", IntAttr(0)}}), {kTN4}, {FLOAT32}),
            "attribute 'units' must be positive; got 0");
  EXPECT_EQ(Error("Dense", NodeDef(), {kTN4}, {FLOAT32}), "attribute 'units' is required");
}

TEST(OpShapeTest, MatMul) {
  EXPECT_EQ(Out("MatMul", NodeDef(), {kTN4, {K(4), K(5)}}, {FLOAT32, FLOAT32}), "[T,N,5]");
  EXPECT_EQ(Out("MatMul", NodeDef(), {{K(4)}, {K(4), K(2)}}, {FLOAT32, FLOAT32}), "[2]");
  EXPECT_EQ(Error("MatMul", NodeDef(), {kTN4, {K(2), K(4), K(5)}}, {FLOAT32, FLOAT32}),
            "input 'b' must have rank 2 [K,M]; got [2,K=4,M=5]");
  EXPECT_EQ(Error("MatMul", NodeDef(), {kTN4, {K(3), K(5)}}, {FLOAT32, FLOAT32}),
            "input 'b' dimension 0 (K) must equal the last dimension of input 'a'; got a "
            "[T,N,4] and b [3,5]");
  EXPECT_EQ(Error("MatMul", NodeDef(), {kTN4, {K(4), K(5)}}, {FLOAT32, INT32}),
            "input 'b' must be FLOAT32; got INT32");
}

TEST(OpShapeTest, AddAndMulBroadcast) {
  for (const char* op : {"Add", "Mul"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Out(op, NodeDef(), {kTN4, kTN4}, {FLOAT32, FLOAT32}), "[T,N,4]");
    EXPECT_EQ(Out(op, NodeDef(), {kTN4, {K(4)}}, {FLOAT32, FLOAT32}), "[T,N,4]");
    EXPECT_EQ(Out(op, NodeDef(), {kTN4, {S("N"), K(4)}}, {FLOAT32, FLOAT32}), "[T,N,4]");
    EXPECT_EQ(Out(op, NodeDef(), {kTN4, {}}, {FLOAT32, FLOAT32}), "[T,N,4]");
    EXPECT_EQ(Error(op, NodeDef(), {kTN4, {K(3)}}, {FLOAT32, FLOAT32}),
              "input 'b' has shape [3], which must equal the shape of input 'a' [T,N,4] "
              "or a suffix of it (broadcast over leading dims)");
    EXPECT_EQ(Error(op, NodeDef(), {{S("N"), K(4)}, kTN4}, {FLOAT32, FLOAT32}),
              "input 'b' has shape [T,N,4], which must equal the shape of input 'a' "
              "[N,4] or a suffix of it (broadcast over leading dims)");
    EXPECT_EQ(Error(op, NodeDef(), {kTN4, {S("T"), K(4)}}, {FLOAT32, FLOAT32}),
              "input 'b' has shape [T,4], which must equal the shape of input 'a' "
              "[T,N,4] or a suffix of it (broadcast over leading dims)");
    EXPECT_EQ(Error(op, NodeDef(), {kTN4, kTN4}, {INT32, FLOAT32}),
              "input 'a' must be FLOAT32; got INT32");
  }
}

TEST(OpShapeTest, UnaryAndSoftmax) {
  for (const char* op : {"Tanh", "Sigmoid", "Relu", "Softmax"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Out(op, NodeDef(), {kTN4}, {FLOAT32}), "[T,N,4]");
    EXPECT_EQ(Error(op, NodeDef(), {kTN4}, {INT32}), "input 'x' must be FLOAT32; got INT32");
  }
  EXPECT_EQ(Out("Tanh", NodeDef(), {{}}, {FLOAT32}), "[]");
  EXPECT_EQ(Error("Softmax", NodeDef(), {{}}, {FLOAT32}), "input 'x' must have rank >= 1; got []");
}

TEST(OpShapeTest, Concat) {
  const SymShape a = {S("T"), S("N"), K(3)};
  const SymShape b = {S("T"), S("N"), K(5)};
  EXPECT_EQ(Out("Concat", NodeDef(), {a, b, a}, {FLOAT32, FLOAT32, FLOAT32}), "[T,N,11]");
  EXPECT_EQ(Out("Concat", MakeNode({{"axis", IntAttr(-3)}}), {{K(2), K(3)}, {K(2), K(3)}},
                {FLOAT32, FLOAT32}),
            "attribute 'axis' must be in [-2, 2) for rank 2; got -3");
  EXPECT_EQ(Out("Concat", MakeNode({{"axis", IntAttr(0)}}), {{K(2), K(3)}, {K(1), K(3)}},
                {FLOAT32, FLOAT32}),
            "[3,3]");
  EXPECT_EQ(Error("Concat", NodeDef(), {a, {S("T"), S("M"), K(5)}}, {FLOAT32, FLOAT32}),
            "input 'values[1]' has shape [T,M,5], which does not match [T,N,3] of input "
            "'values[0]' outside axis 2");
  EXPECT_EQ(Error("Concat", NodeDef(), {a, {S("N"), K(5)}}, {FLOAT32, FLOAT32}),
            "input 'values[1]' has shape [N,5], which does not match [T,N,3] of input "
            "'values[0]' outside axis 2");
  EXPECT_EQ(Error("Concat", MakeNode({{"axis", IntAttr(3)}}), {a, b}, {FLOAT32, FLOAT32}),
            "attribute 'axis' must be in [-3, 3) for rank 3; got 3");
  EXPECT_EQ(Error("Concat", MakeNode({{"axis", IntAttr(0)}}), {a, a}, {FLOAT32, FLOAT32}),
            "input 'values[0]' must have a known size along axis 0; got [T,N,3]");
  EXPECT_EQ(Error("Concat", NodeDef(), {a, b}, {FLOAT32, INT32}),
            "input 'values[1]' must be FLOAT32; got INT32");
}

TEST(OpShapeTest, Slice) {
  const SymShape x = {S("T"), S("N"), K(10)};
  EXPECT_EQ(Out("Slice", MakeNode({{"begin", IntAttr(2)}, {"size", IntAttr(3)}}), {x}, {FLOAT32}),
            "[T,N,3]");
  EXPECT_EQ(Out("Slice", MakeNode({{"begin", IntAttr(2)}, {"size", IntAttr(-1)}}), {x}, {FLOAT32}),
            "[T,N,8]");
  EXPECT_EQ(
      Error("Slice", MakeNode({{"begin", IntAttr(10)}, {"size", IntAttr(1)}}), {x}, {FLOAT32}),
      "attribute 'begin' must be in [0, 10) for axis 2 of [T,N,10]; got 10");
  EXPECT_EQ(
      Error("Slice", MakeNode({{"begin", IntAttr(-1)}, {"size", IntAttr(1)}}), {x}, {FLOAT32}),
      "attribute 'begin' must be in [0, 10) for axis 2 of [T,N,10]; got -1");
  EXPECT_EQ(Error("Slice", MakeNode({{"begin", IntAttr(2)}, {"size", IntAttr(9)}}), {x}, {FLOAT32}),
            "attribute 'size' must be in [1, 8] (or -1) for begin 2 on axis 2 of [T,N,10]; "
            "got 9");
  EXPECT_EQ(Error("Slice", MakeNode({{"begin", IntAttr(2)}, {"size", IntAttr(0)}}), {x}, {FLOAT32}),
            "attribute 'size' must be in [1, 8] (or -1) for begin 2 on axis 2 of [T,N,10]; "
            "got 0");
  EXPECT_EQ(
      Error("Slice", MakeNode({{"axis", IntAttr(1)}, {"begin", IntAttr(0)}, {"size", IntAttr(1)}}),
            {x}, {FLOAT32}),
      "input 'x' must have a known size along axis 1; got [T,N,10]");
  EXPECT_EQ(Error("Slice", MakeNode({{"size", IntAttr(1)}}), {x}, {FLOAT32}),
            "attribute 'begin' is required");
}

TEST(OpShapeTest, SoftmaxCrossEntropy) {
  const SymShape logits = {S("T"), S("N"), K(50)};
  EXPECT_EQ(Out("SoftmaxCrossEntropy", NodeDef(), {logits, {S("T"), S("N")}}, {FLOAT32, INT32}),
            "[]");
  EXPECT_EQ(Error("SoftmaxCrossEntropy", NodeDef(), {logits, {S("T")}}, {FLOAT32, INT32}),
            "input 'labels' must have the leading dims of input 'logits' [T,N,50], i.e. "
            "[T,N]; got [T]");
  EXPECT_EQ(Error("SoftmaxCrossEntropy", NodeDef(), {logits, logits}, {FLOAT32, INT32}),
            "input 'labels' must have the leading dims of input 'logits' [T,N,50], i.e. "
            "[T,N]; got [T,N,50]");
  EXPECT_EQ(Error("SoftmaxCrossEntropy", NodeDef(), {logits, {S("T"), S("N")}}, {FLOAT32, FLOAT32}),
            "input 'labels' must be INT32; got FLOAT32");
  EXPECT_EQ(Error("SoftmaxCrossEntropy", NodeDef(), {{}, {}}, {FLOAT32, INT32}),
            "input 'logits' must have rank >= 1; got []");
}

TEST(OpShapeTest, PointwiseLosses) {
  for (const char* op : {"SigmoidCrossEntropy", "MeanSquaredError"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Out(op, NodeDef(), {kTN4, kTN4}, {FLOAT32, FLOAT32}), "[]");
    const std::string first = std::string(op) == "MeanSquaredError" ? "predictions" : "logits";
    EXPECT_EQ(Error(op, NodeDef(), {kTN4, {S("T"), S("N"), K(3)}}, {FLOAT32, FLOAT32}),
              "input 'targets' must have the shape of input '" + first +
                  "' [T,N,4]; got "
                  "[T,N,3]");
    EXPECT_EQ(Error(op, NodeDef(), {kTN4, kTN4}, {FLOAT32, INT32}),
              "input 'targets' must be FLOAT32; got INT32");
  }
}

TEST(OpShapeTest, SchemaMetadata) {
  const OpRegistry& reg = OpRegistry::Global();
  for (const char* op :
       {"Embedding", "Dense", "MatMul", "Add", "Mul", "Tanh", "Sigmoid", "Relu", "Softmax",
        "Concat", "Slice", "SoftmaxCrossEntropy", "SigmoidCrossEntropy", "MeanSquaredError"}) {
    SCOPED_TRACE(op);
    const OpSchema* s = reg.Find(op);
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->doc().empty());
    EXPECT_TRUE(s->shape_fn() != nullptr);
    const bool loss = std::string(op).find("Entropy") != std::string::npos ||
                      std::string(op) == "MeanSquaredError";
    EXPECT_EQ(s->is_loss(), loss);
    for (const ArgSpec& in : s->inputs()) EXPECT_FALSE(in.doc.empty()) << in.name;
  }
  EXPECT_FALSE(reg.Find("Embedding")->inputs()[0].differentiable);
  EXPECT_FALSE(reg.Find("SoftmaxCrossEntropy")->inputs()[1].differentiable);
  EXPECT_FALSE(reg.Find("MeanSquaredError")->inputs()[1].differentiable);
  EXPECT_TRUE(reg.Find("Concat")->inputs()[0].variadic);
  EXPECT_TRUE(reg.Find("Dense")->FindAttr("units")->required);
  EXPECT_EQ(reg.Find("Dense")->FindAttr("use_bias")->default_value.b(), true);
  EXPECT_EQ(reg.Find("Slice")->FindAttr("axis")->default_value.i(), -1);
  EXPECT_TRUE(reg.Find("Slice")->FindAttr("begin")->required);
  EXPECT_EQ(reg.Find("SoftmaxCrossEntropy")->FindAttr("ignore_label")->default_value.i(), -1);
}

}  // namespace
}  // namespace rnnflow
