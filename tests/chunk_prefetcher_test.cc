// The background chunk reader: it serves exactly the chunk asked for, and
// token streams read the same chunks with and without it, across epoch
// wrap-arounds, seeks (resume, validation) and column selection (ranks).
#include "rnnflow/dataset/chunk_prefetcher.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {
namespace {

TEST(ChunkPrefetcherTest, ServesOnlyTheChunkItFilled) {
  std::atomic<int> fills{0};
  ChunkPrefetcher p(4, [&](int64_t position, absl::Span<int32_t> a, absl::Span<int32_t> b) {
    ++fills;
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<int32_t>(position * 10 + i);
      b[i] = -a[i];
    }
  });
  std::vector<int32_t> a(4), b(4);
  EXPECT_FALSE(p.Take(0, absl::MakeSpan(a), absl::MakeSpan(b)));  // nothing started
  p.Start(3);
  EXPECT_FALSE(p.Take(2, absl::MakeSpan(a), absl::MakeSpan(b)));  // another chunk
  ASSERT_TRUE(p.Take(3, absl::MakeSpan(a), absl::MakeSpan(b)));
  EXPECT_EQ(a, (std::vector<int32_t>{30, 31, 32, 33}));
  EXPECT_EQ(b, (std::vector<int32_t>{-30, -31, -32, -33}));
  p.Start(3);  // already staged: no second read
  EXPECT_EQ(fills.load(), 1);
  EXPECT_EQ(p.hits(), 1);
  EXPECT_EQ(p.misses(), 2);
  std::vector<int32_t> small(3);
  EXPECT_FALSE(p.Take(3, absl::MakeSpan(small), absl::MakeSpan(b)));  // wrong size
}

TEST(ChunkPrefetcherTest, DestroyingWithAFillRunningWaitsForIt) {
  std::atomic<bool> started{false}, done{false};
  {
    ChunkPrefetcher p(1, [&](int64_t, absl::Span<int32_t>, absl::Span<int32_t>) {
      started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      done = true;
    });
    p.Start(0);
    while (!started.load()) std::this_thread::yield();
  }
  EXPECT_TRUE(done.load());  // the mapping it reads may be unmapped only now
}

std::string WriteCorpus() {
  const std::string path = testing::TempDir() + "/prefetch_corpus.txt";
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 5000; ++i) out.put(static_cast<char>('a' + (i * 7 + i / 13) % 26));
  return path;
}

// Reads `chunks` chunks, seeking at a few points like resume and validation do.
std::vector<int32_t> ReadWithSeeks(TokenStreams& s, int chunks) {
  const int64_t n = s.local_columns() < 0 ? s.num_streams() : s.local_columns();
  std::vector<int32_t> tokens(s.steps() * n), targets(tokens.size()), all;
  for (int k = 0; k < chunks; ++k) {
    if (k == 7) s.set_position(3 * s.steps());  // a resume
    if (k == 15) s.set_position(0);             // a validation pass restarting
    const bool new_epoch = s.Next(absl::MakeSpan(tokens), absl::MakeSpan(targets));
    all.push_back(new_epoch ? 1 : 0);
    all.insert(all.end(), tokens.begin(), tokens.end());
    all.insert(all.end(), targets.begin(), targets.end());
  }
  return all;
}

TEST(ChunkPrefetcherTest, TokenStreamsReadTheSameChunksWithPrefetching) {
  const std::string path = WriteCorpus();
  const int64_t C = 6, T = 37;  // 5000 / 6 / 37: 22 chunks per epoch, wraps
  auto plain = TokenStreams::OpenBytes(path, C, T);
  auto prefetched = TokenStreams::OpenBytes(path, C, T);
  ASSERT_TRUE(plain.ok() && prefetched.ok());
  (*prefetched)->EnablePrefetch();
  EXPECT_EQ(ReadWithSeeks(**prefetched, 60), ReadWithSeeks(**plain, 60));
  // Most chunks came from the background thread; seeks missed.
  ASSERT_NE((*prefetched)->prefetcher(), nullptr);
  EXPECT_GE((*prefetched)->prefetcher()->hits(), 50);
  EXPECT_LE((*prefetched)->prefetcher()->misses(), 4);

  // A rank's slice of columns.
  ASSERT_TRUE((*plain)->SelectColumns(2, 3).ok());
  ASSERT_TRUE((*prefetched)->SelectColumns(2, 3).ok());
  (*plain)->set_position(0);
  (*prefetched)->set_position(0);
  EXPECT_EQ(ReadWithSeeks(**prefetched, 30), ReadWithSeeks(**plain, 30));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace rnnflow
