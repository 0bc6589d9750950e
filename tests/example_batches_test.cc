// The epoch order of labelled examples: every example once per epoch, a
// function of (seed, epoch), bucketing by length, and ranks' shares of each
// global batch.
#include "rnnflow/dataset/example_batches.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

std::vector<int64_t> Lengths(int64_t n) {
  std::vector<int64_t> l(n);
  for (int64_t i = 0; i < n; ++i) l[i] = 1 + (i * 37) % 50;
  return l;
}

ExampleBatches Make(int64_t n, ExampleBatchOptions o) {
  auto b = ExampleBatches::Create(Lengths(n), o);
  EXPECT_TRUE(b.ok()) << b.status();
  return *std::move(b);
}

TEST(ExampleBatchesTest, EveryExampleOncePerEpochWithAPartialLastBatch) {
  ExampleBatchOptions o;
  o.batch = 8;
  o.seed = 3;
  ExampleBatches b = Make(101, o);
  ASSERT_EQ(b.batches_per_epoch(), 13);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen;
    int64_t empty = 0;
    for (int64_t k = 0; k < b.batches_per_epoch(); ++k) {
      for (int64_t e : b.GlobalBatch(epoch * b.batches_per_epoch() + k)) {
        if (e < 0) {
          ++empty;
        } else {
          seen.push_back(e);
        }
      }
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(101);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen, all) << "epoch " << epoch;
    EXPECT_EQ(empty, 13 * 8 - 101);
  }
}

TEST(ExampleBatchesTest, OrderIsAFunctionOfSeedAndEpoch) {
  ExampleBatchOptions o;
  o.batch = 4;
  o.seed = 11;
  ExampleBatches a = Make(50, o), b = Make(50, o);
  const int64_t bpe = a.batches_per_epoch();
  // Asking out of order (as a resume does) gives the same batches.
  const std::vector<int64_t> late = b.GlobalBatch(2 * bpe + 5);
  EXPECT_EQ(b.GlobalBatch(3), a.GlobalBatch(3));
  EXPECT_EQ(a.GlobalBatch(2 * bpe + 5), late);
  // Different epochs and seeds shuffle differently.
  EXPECT_NE(a.GlobalBatch(0), a.GlobalBatch(bpe));
  o.seed = 12;
  ExampleBatches c = Make(50, o);
  EXPECT_NE(c.GlobalBatch(0), a.GlobalBatch(0));
  // Without shuffling: file order.
  o.shuffle = false;
  ExampleBatches d = Make(10, o);
  EXPECT_EQ(d.GlobalBatch(1), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(d.GlobalBatch(2), (std::vector<int64_t>{8, 9, -1, -1}));
}

// Padding = sum over batches of (max length x slots - sum of lengths).
int64_t Padding(ExampleBatches& b, const std::vector<int64_t>& lengths) {
  int64_t pad = 0;
  for (int64_t k = 0; k < b.batches_per_epoch(); ++k) {
    int64_t longest = 0, sum = 0, used = 0;
    for (int64_t e : b.GlobalBatch(k)) {
      if (e < 0) continue;
      longest = std::max(longest, lengths[e]);
      sum += lengths[e];
      ++used;
    }
    pad += longest * used - sum;
  }
  return pad;
}

TEST(ExampleBatchesTest, BucketingSortsWithinWindowsAndCutsPadding) {
  ExampleBatchOptions o;
  o.batch = 16;
  o.seed = 5;
  const std::vector<int64_t> lengths = Lengths(1000);
  ExampleBatches plain = Make(1000, o);
  o.bucket_window = 8;
  ExampleBatches bucketed = Make(1000, o);
  const int64_t p0 = Padding(plain, lengths), p1 = Padding(bucketed, lengths);
  EXPECT_LT(p1 * 4, p0) << "plain " << p0 << " bucketed " << p1;
  // Still every example once.
  std::set<int64_t> seen;
  for (int64_t k = 0; k < bucketed.batches_per_epoch(); ++k) {
    for (int64_t e : bucketed.GlobalBatch(k)) {
      if (e >= 0) {
        EXPECT_TRUE(seen.insert(e).second);
      }
    }
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ExampleBatchesTest, RanksTakeConsecutiveSlotsOfTheSameGlobalBatch) {
  ExampleBatchOptions one;
  one.batch = 8;
  one.seed = 9;
  one.bucket_window = 4;
  ExampleBatches single = Make(77, one);
  ExampleBatchOptions two = one;
  two.batch = 4;
  two.ranks = 2;
  for (int rank = 0; rank < 2; ++rank) {
    two.rank = rank;
    ExampleBatches r = Make(77, two);
    ASSERT_EQ(r.batches_per_epoch(), single.batches_per_epoch());
    for (int64_t p = 0; p < 25; ++p) {
      const std::vector<int64_t> g = single.GlobalBatch(p);
      EXPECT_EQ(r.Batch(p), std::vector<int64_t>(g.begin() + rank * 4, g.begin() + rank * 4 + 4));
    }
  }
}

TEST(ExampleBatchesTest, BadOptionsAreErrors) {
  ExampleBatchOptions o;
  o.batch = 0;
  EXPECT_FALSE(ExampleBatches::Create(Lengths(3), o).ok());
  o.batch = 2;
  o.rank = 2;
  o.ranks = 2;
  EXPECT_FALSE(ExampleBatches::Create(Lengths(3), o).ok());
  o.rank = 0;
  EXPECT_FALSE(ExampleBatches::Create({}, o).ok());
}

}  // namespace
}  // namespace rnnflow
