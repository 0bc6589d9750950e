#include "rnnflow/graph/shape.h"

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

TEST(ShapeTest, ParsesKnownAndSymbolicDims) {
  EXPECT_EQ(ParseDim("64"), Dim::Known(64));
  EXPECT_EQ(ParseDim("T"), Dim::Symbol("T"));
  EXPECT_EQ(ShapeToString(SymShape{Dim::Symbol("T"), Dim::Known(3)}), "[T,3]");
  EXPECT_EQ(ShapeToString(SymShape{Dim::Known(32), Dim::Known(128)}, {"N", "C"}), "[N=32,C=128]");
}

TEST(ShapeTest, BindReportsMissingSymbol) {
  auto bound = Bind({Dim::Symbol("T"), Dim::Known(2)}, {{"T", 5}});
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, (Shape{5, 2}));
  EXPECT_FALSE(Bind({Dim::Symbol("N")}, {}).ok());
}

TEST(ShapeTest, PositionStringIsTheRowMajorIndexOfAnElement) {
  EXPECT_EQ(PositionString({2, 3}, 0), "[0,0]");
  EXPECT_EQ(PositionString({2, 3}, 2), "[0,2]");
  EXPECT_EQ(PositionString({2, 3}, 4), "[1,1]");
  EXPECT_EQ(PositionString({4, 2, 3}, 23), "[3,1,2]");
  EXPECT_EQ(PositionString({5}, 3), "[3]");
  EXPECT_EQ(PositionString({}, 0), "[]");
}

}  // namespace
}  // namespace rnnflow
