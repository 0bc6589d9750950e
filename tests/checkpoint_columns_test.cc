// Gathering and splitting carried states along their column axis, as
// data-parallel checkpoints do (training/internal/checkpoint_columns.h).
#include "rnnflow/training/internal/checkpoint_columns.h"

#include <vector>

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

// Value of element (o, c, i) of a [outer, columns, inner] tensor: unique.
float Value(int64_t o, int64_t c, int64_t i) { return 1000.f * o + 10.f * c + i; }

TEST(CheckpointColumnsTest, MergeThenTakeGivesEveryWorkerItsOwnColumns) {
  // A fused LSTM state [L*D=2, N=3, H=4] on each of 2 workers.
  const Shape local = {2, 3, 4};
  const int workers = 2;
  std::vector<float> gathered;
  for (int r = 0; r < workers; ++r) {
    for (int64_t o = 0; o < 2; ++o) {
      for (int64_t n = 0; n < 3; ++n) {
        for (int64_t i = 0; i < 4; ++i) gathered.push_back(Value(o, r * 3 + n, i));
      }
    }
  }
  Shape global;
  const std::vector<float> merged = MergeColumns(gathered, local, 1, workers, &global);
  ASSERT_EQ(global, (Shape{2, 6, 4}));
  for (int64_t o = 0; o < 2; ++o) {
    for (int64_t c = 0; c < 6; ++c) {
      for (int64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(merged[(o * 6 + c) * 4 + i], Value(o, c, i)) << o << "," << c << "," << i;
      }
    }
  }
  // Resumed on 3 workers of 2 columns each: worker 1 holds columns 2 and 3.
  auto taken = TakeColumns(merged, global, 1, 2, 2);
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_EQ(taken->size(), 2u * 2 * 4);
  for (int64_t o = 0; o < 2; ++o) {
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t i = 0; i < 4; ++i) EXPECT_EQ((*taken)[(o * 2 + n) * 4 + i], Value(o, 2 + n, i));
    }
  }
}

TEST(CheckpointColumnsTest, LeadingAndTrailingColumnAxes) {
  // [N, H] (a custom state) and [H, N].
  const std::vector<float> v = {0, 1, 2, 3, 4, 5};  // [3, 2] or [2, 3]
  auto rows = TakeColumns(v, {3, 2}, 0, 1, 2);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, (std::vector<float>{2, 3, 4, 5}));
  auto cols = TakeColumns(v, {2, 3}, 1, 2, 1);
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(*cols, (std::vector<float>{2, 5}));
}

TEST(CheckpointColumnsTest, ColumnsOutsideTheTensorAreAnError) {
  const std::vector<float> v(6, 0.f);
  auto s = TakeColumns(v, {2, 3}, 1, 2, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "columns [2, 4) along axis 1 of a tensor of shape [2,3]");
  EXPECT_FALSE(TakeColumns(v, {2, 3}, 2, 0, 1).ok());
}

}  // namespace
}  // namespace rnnflow
