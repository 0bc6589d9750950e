// Greedy and beam search on step models small enough to enumerate: width 1
// is greedy, a wide beam is exact search, a narrow beam escapes a greedy
// trap, and bad options are errors.
#include "rnnflow/inference/beam_search.h"

#include <cmath>
#include <functional>
#include <random>

#include "gtest/gtest.h"

namespace rnnflow {
namespace {

// Next-token log-probabilities as a function of the whole prefix (a hash of
// it seeds a generator), so Reorder must carry real per-row state.
class TableModel : public StepModel {
 public:
  TableModel(int64_t rows, int64_t vocab, uint64_t seed, float sharpness = 2.0f)
      : rows_(rows), vocab_(vocab), seed_(seed), sharpness_(sharpness), prefix_(rows, 1) {}
  int64_t vocab() const override { return vocab_; }
  int64_t rows() const override { return rows_; }

  // log p(. | prefix) for a prefix hash.
  std::vector<float> Distribution(uint64_t prefix) const {
    std::mt19937_64 rng(prefix * 0x9E3779B97F4A7C15ull + seed_);
    std::normal_distribution<float> normal(0.f, sharpness_);
    std::vector<float> z(vocab_);
    float m = -1e30f;
    for (float& v : z) m = std::max(m, v = normal(rng));
    double s = 0;
    for (float v : z) s += std::exp(v - m);
    for (float& v : z) v = v - m - static_cast<float>(std::log(s));
    return z;
  }
  static uint64_t Extend(uint64_t prefix, int32_t token) { return prefix * 1000003ull + token + 7; }

  absl::Status Step(absl::Span<const int32_t> tokens, absl::Span<float> log_probs) override {
    for (int64_t r = 0; r < rows_; ++r) {
      prefix_[r] = Extend(prefix_[r], tokens[r]);
      const std::vector<float> d = Distribution(prefix_[r]);
      std::copy(d.begin(), d.end(), log_probs.begin() + r * vocab_);
    }
    ++steps_;
    return absl::OkStatus();
  }
  absl::Status Reorder(absl::Span<const int64_t> parent) override {
    std::vector<uint64_t> old = prefix_;
    for (int64_t r = 0; r < rows_; ++r) prefix_[r] = old[parent[r]];
    return absl::OkStatus();
  }
  int64_t steps() const { return steps_; }

 private:
  int64_t rows_, vocab_;
  uint64_t seed_;
  float sharpness_;
  std::vector<uint64_t> prefix_;
  int64_t steps_ = 0;
};

// The best sequence by exhaustive enumeration: every sequence ending in the
// end id 0 within max_length tokens, and every unterminated one of exactly
// max_length tokens.
Hypothesis Exhaustive(const TableModel& m, const DecodeOptions& o) {
  Hypothesis best;
  best.score = -INFINITY;
  std::function<void(uint64_t, int32_t, std::vector<int32_t>&, double)> walk =
      [&](uint64_t prefix, int32_t fed, std::vector<int32_t>& tokens, double lp) {
        const uint64_t p = TableModel::Extend(prefix, fed);
        const std::vector<float> d = m.Distribution(p);
        for (int32_t v = 0; v < m.vocab(); ++v) {
          const double total = lp + d[v];
          if (v == o.end_id) {
            const double score =
                NormalizedScore(total, static_cast<int64_t>(tokens.size()) + 1, o.alpha);
            if (score > best.score) best = {tokens, total, score, true};
            continue;
          }
          tokens.push_back(v);
          if (static_cast<int64_t>(tokens.size()) == o.max_length) {
            const double score =
                NormalizedScore(total, static_cast<int64_t>(tokens.size()), o.alpha);
            if (score > best.score) best = {tokens, total, score, false};
          } else {
            walk(p, v, tokens, total);
          }
          tokens.pop_back();
        }
      };
  std::vector<int32_t> tokens;
  walk(1, o.start_id, tokens, 0.0);
  return best;
}

TEST(BeamSearchTest, WidthOneIsGreedy) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DecodeOptions o;
    o.max_length = 6;
    o.beam = 1;
    TableModel a(3, 5, seed), b(3, 5, seed);
    auto greedy = GreedyDecode(a, 3, o);
    auto beam = BeamSearch(b, 3, o);
    ASSERT_TRUE(greedy.ok() && beam.ok());
    for (int s = 0; s < 3; ++s) {
      ASSERT_EQ((*beam)[s].size(), 1u);
      EXPECT_EQ((*greedy)[s].tokens, (*beam)[s][0].tokens) << "seed " << seed;
      EXPECT_EQ((*greedy)[s].finished, (*beam)[s][0].finished);
      EXPECT_NEAR((*greedy)[s].log_prob, (*beam)[s][0].log_prob, 1e-5);
    }
  }
}

TEST(BeamSearchTest, WideBeamIsExactSearch) {
  // vocab 3 (end + 2 tokens), max length 4: 15 non-end prefixes at most.
  for (double alpha : {0.0, 1.0}) {
    for (uint64_t seed = 1; seed <= 30; ++seed) {
      DecodeOptions o;
      o.max_length = 4;
      o.beam = 16;
      o.alpha = alpha;
      TableModel m(2 * o.beam, 3, seed, 1.0f);
      auto beam = BeamSearch(m, 2, o);
      ASSERT_TRUE(beam.ok()) << beam.status();
      const Hypothesis want = Exhaustive(m, o);
      for (int s = 0; s < 2; ++s) {
        EXPECT_EQ((*beam)[s][0].tokens, want.tokens) << "seed " << seed << " alpha " << alpha;
        EXPECT_EQ((*beam)[s][0].finished, want.finished);
        EXPECT_NEAR((*beam)[s][0].score, want.score, 1e-4);
      }
    }
  }
}

// A greedy trap: the first token 1 looks best, but every continuation after
// it is unlikely; 2 then end is the most probable sequence.
class TrapModel : public StepModel {
 public:
  explicit TrapModel(int64_t rows) : rows_(rows) {}
  int64_t vocab() const override { return 3; }
  int64_t rows() const override { return rows_; }
  absl::Status Step(absl::Span<const int32_t> tokens, absl::Span<float> lp) override {
    for (int64_t r = 0; r < rows_; ++r) {
      const int32_t prev = first_ ? -1 : tokens[r];
      std::vector<double> p;
      if (prev == -1)
        p = {0.05, 0.5, 0.45};  // start
      else if (prev == 1)
        p = {0.34, 0.33, 0.33};  // after 1: nothing is likely
      else
        p = {0.98, 0.01, 0.01};  // after 2: end
      for (int v = 0; v < 3; ++v) lp[r * 3 + v] = static_cast<float>(std::log(p[v]));
    }
    first_ = false;
    return absl::OkStatus();
  }
  absl::Status Reorder(absl::Span<const int64_t>) override { return absl::OkStatus(); }

 private:
  int64_t rows_;
  bool first_ = true;
};

TEST(BeamSearchTest, BeamEscapesAGreedyTrap) {
  DecodeOptions o;
  o.max_length = 5;
  TrapModel g(1);
  auto greedy = GreedyDecode(g, 1, o);
  ASSERT_TRUE(greedy.ok());
  EXPECT_EQ((*greedy)[0].tokens[0], 1);
  o.beam = 2;
  o.nbest = 2;
  TrapModel b(2);
  auto beam = BeamSearch(b, 1, o);
  ASSERT_TRUE(beam.ok());
  ASSERT_EQ((*beam)[0].size(), 2u);
  EXPECT_EQ((*beam)[0][0].tokens, std::vector<int32_t>({2}));
  EXPECT_TRUE((*beam)[0][0].finished);
  EXPECT_NEAR((*beam)[0][0].log_prob, std::log(0.45) + std::log(0.98), 1e-5);
  EXPECT_GE((*beam)[0][0].score, (*beam)[0][1].score);
}

TEST(BeamSearchTest, StopsAtMaxLengthUnterminated) {
  DecodeOptions o;
  o.max_length = 3;
  o.end_id = 2;
  // The end id is never likely: every hypothesis runs to max length.
  class NeverEnd : public StepModel {
   public:
    int64_t vocab() const override { return 3; }
    int64_t rows() const override { return 2; }
    absl::Status Step(absl::Span<const int32_t>, absl::Span<float> lp) override {
      for (int r = 0; r < 2; ++r) {
        lp[r * 3] = std::log(0.7f), lp[r * 3 + 1] = std::log(0.3f - 1e-6f);
        lp[r * 3 + 2] = std::log(1e-6f);
      }
      return absl::OkStatus();
    }
    absl::Status Reorder(absl::Span<const int64_t>) override { return absl::OkStatus(); }
  } m;
  o.beam = 2;
  auto beam = BeamSearch(m, 1, o);
  ASSERT_TRUE(beam.ok());
  EXPECT_EQ((*beam)[0][0].tokens, std::vector<int32_t>({0, 0, 0}));
  EXPECT_FALSE((*beam)[0][0].finished);
}

TEST(BeamSearchTest, BadOptionsAreErrors) {
  TableModel m(4, 3, 1);
  DecodeOptions o;
  o.beam = 2;
  EXPECT_FALSE(BeamSearch(m, 3, o).ok());  // 4 rows != 3 x 2
  o.beam = 0;
  EXPECT_EQ(BeamSearch(m, 2, o).status().message(), "DecodeOptions::beam must be >= 1; got 0");
  o.beam = 1;
  o.max_length = 0;
  EXPECT_EQ(GreedyDecode(m, 4, o).status().message(),
            "DecodeOptions::max_length must be >= 1; got 0");
  o.max_length = 3;
  o.end_id = 3;
  auto bad = GreedyDecode(m, 4, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("outside the vocabulary"), std::string::npos);
}

}  // namespace
}  // namespace rnnflow
