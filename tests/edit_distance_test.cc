// Levenshtein distance and the error rates built on it.
#include "rnnflow/inference/edit_distance.h"

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

using V = std::vector<int32_t>;

TEST(EditDistanceTest, KnownDistances) {
  EXPECT_EQ(EditDistance(V{}, V{}), 0);
  EXPECT_EQ(EditDistance(V{1, 2, 3}, V{}), 3);
  EXPECT_EQ(EditDistance(V{}, V{4, 5}), 2);
  EXPECT_EQ(EditDistance(V{1, 2, 3}, V{1, 2, 3}), 0);
  EXPECT_EQ(EditDistance(V{1, 2, 3}, V{1, 9, 3}), 1);  // substitution
  EXPECT_EQ(EditDistance(V{1, 2, 3}, V{1, 3}), 1);     // deletion
  EXPECT_EQ(EditDistance(V{1, 3}, V{1, 2, 3}), 1);     // insertion
  EXPECT_EQ(EditDistance(V{1, 2}, V{2, 1}), 2);        // no transpositions
  // kitten -> sitting = 3
  EXPECT_EQ(EditDistance(V{'k', 'i', 't', 't', 'e', 'n'}, V{'s', 'i', 't', 't', 'i', 'n', 'g'}), 3);
}

TEST(EditDistanceTest, SymmetricAndBoundedByTheLongerLength) {
  const V a = {1, 2, 3, 4, 5, 6}, b = {2, 3, 7, 5};
  EXPECT_EQ(EditDistance(a, b), EditDistance(b, a));
  EXPECT_EQ(EditDistance(a, b), 3);
  EXPECT_LE(EditDistance(a, V{9, 9}), 6);
}

TEST(ErrorRateTest, ClosestReferenceCounts) {
  ErrorRate r;
  r.Add(V{1, 2, 3}, {{1, 2, 3}});             // exact
  r.Add(V{1, 2}, {{1, 2, 3, 4}, {1, 2, 5}});  // closest: 1 error of 3
  r.Add(V{}, {{7, 8}});                       // 2 errors of 2
  EXPECT_EQ(r.errors(), 3);
  EXPECT_EQ(r.reference_tokens(), 8);
  EXPECT_EQ(r.sequences(), 3);
  EXPECT_EQ(r.exact(), 1);
  EXPECT_DOUBLE_EQ(r.token_error_rate(), 3.0 / 8);
  EXPECT_DOUBLE_EQ(r.sequence_accuracy(), 1.0 / 3);
}

}  // namespace
}  // namespace rnnflow
