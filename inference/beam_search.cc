#include "rnnflow/inference/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

absl::Status CheckOptions(const StepModel& model, int64_t rows, const DecodeOptions& o) {
  if (o.beam < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeOptions::beam must be >= 1; got ", o.beam));
  }
  if (o.max_length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeOptions::max_length must be >= 1; got ", o.max_length));
  }
  if (model.rows() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("the step model has ", model.rows(), " rows; decoding needs ", rows));
  }
  if (o.end_id < 0 || o.end_id >= model.vocab()) {
    return absl::InvalidArgumentError(
        absl::StrCat("end id ", o.end_id, " is outside the vocabulary of ", model.vocab()));
  }
  return absl::OkStatus();
}

int64_t LengthOf(const Hypothesis& h) {
  return static_cast<int64_t>(h.tokens.size()) + (h.finished ? 1 : 0);
}

}  // namespace

double NormalizedScore(double log_prob, int64_t length, double alpha) {
  if (alpha == 0.0) return log_prob;
  return log_prob / std::pow(static_cast<double>(std::max<int64_t>(length, 1)), alpha);
}

absl::StatusOr<std::vector<Hypothesis>> GreedyDecode(StepModel& model, int64_t sources,
                                                     const DecodeOptions& options) {
  RF_RETURN_IF_ERROR(CheckOptions(model, sources, options));
  const int64_t V = model.vocab();
  std::vector<Hypothesis> out(sources);
  std::vector<int32_t> tokens(sources, options.start_id);
  std::vector<float> logp(sources * V);
  int64_t live = sources;
  for (int64_t t = 0; t < options.max_length && live > 0; ++t) {
    RF_RETURN_IF_ERROR(model.Step(tokens, absl::MakeSpan(logp)));
    for (int64_t b = 0; b < sources; ++b) {
      Hypothesis& h = out[b];
      if (h.finished || static_cast<int64_t>(h.tokens.size()) < t) continue;
      const float* row = logp.data() + b * V;
      const int32_t best = static_cast<int32_t>(std::max_element(row, row + V) - row);
      h.log_prob += row[best];
      if (best == options.end_id) {
        h.finished = true;
        --live;
      } else {
        h.tokens.push_back(best);
        if (static_cast<int64_t>(h.tokens.size()) == options.max_length) --live;
      }
      tokens[b] = best;
    }
  }
  for (Hypothesis& h : out) h.score = NormalizedScore(h.log_prob, LengthOf(h), options.alpha);
  return out;
}

absl::StatusOr<std::vector<std::vector<Hypothesis>>> BeamSearch(StepModel& model, int64_t sources,
                                                                const DecodeOptions& options) {
  const int64_t K = options.beam;
  RF_RETURN_IF_ERROR(CheckOptions(model, sources * K, options));
  const int64_t V = model.vocab();
  const int64_t R = sources * K;
  constexpr double kDead = -std::numeric_limits<double>::infinity();

  // Live hypotheses per row; at the start only k = 0 of each source is live.
  std::vector<Hypothesis> live(R);
  std::vector<double> score(R, kDead);
  for (int64_t b = 0; b < sources; ++b) score[b * K] = 0;
  std::vector<std::vector<Hypothesis>> finished(sources);
  std::vector<bool> done(sources, false);
  std::vector<int32_t> tokens(R, options.start_id);
  std::vector<float> logp(R * V);
  std::vector<int64_t> parent(R);
  std::vector<Hypothesis> next(R);
  std::vector<double> next_score(R);
  struct Candidate {
    double score;
    int64_t row;
    int32_t id;
  };
  std::vector<Candidate> cand;

  for (int64_t t = 0; t < options.max_length; ++t) {
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    RF_RETURN_IF_ERROR(model.Step(tokens, absl::MakeSpan(logp)));
    const bool last = t + 1 == options.max_length;
    for (int64_t b = 0; b < sources; ++b) {
      for (int64_t k = 0; k < K; ++k) {
        parent[b * K + k] = b * K + k;
        next_score[b * K + k] = kDead;
      }
      if (done[b]) continue;
      cand.clear();
      for (int64_t k = 0; k < K; ++k) {
        const int64_t r = b * K + k;
        if (score[r] == kDead) continue;
        for (int64_t v = 0; v < V; ++v) {
          cand.push_back({score[r] + logp[r * V + v], r, static_cast<int32_t>(v)});
        }
      }
      const size_t keep = std::min<size_t>(cand.size(), 2 * K);
      auto better = [](const Candidate& x, const Candidate& y) {
        if (x.score != y.score) return x.score > y.score;
        if (x.row != y.row) return x.row < y.row;
        return x.id < y.id;
      };
      std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), better);
      int64_t filled = 0;
      for (size_t i = 0; i < keep && filled < K; ++i) {
        const Candidate& c = cand[i];
        if (c.id == options.end_id) {
          if (static_cast<int64_t>(i) < K) {
            Hypothesis h = live[c.row];
            h.log_prob = c.score;
            h.finished = true;
            finished[b].push_back(std::move(h));
          }
          continue;
        }
        const int64_t slot = b * K + filled++;
        Hypothesis h = live[c.row];
        h.tokens.push_back(c.id);
        h.log_prob = c.score;
        next[slot] = std::move(h);
        next_score[slot] = c.score;
        parent[slot] = c.row;
      }
      for (int64_t k = filled; k < K; ++k) next[b * K + k] = Hypothesis();
      if (static_cast<int64_t>(finished[b].size()) >= K || filled == 0) {
        done[b] = true;
      } else if (last) {
        for (int64_t k = 0; k < filled; ++k) finished[b].push_back(next[b * K + k]);
        done[b] = true;
      }
      if (done[b]) {
        for (int64_t k = 0; k < K; ++k) next_score[b * K + k] = kDead;
      }
    }
    live.swap(next);
    score.swap(next_score);
    for (int64_t r = 0; r < R; ++r) {
      tokens[r] =
          score[r] == kDead || live[r].tokens.empty() ? options.start_id : live[r].tokens.back();
    }
    if (!last) RF_RETURN_IF_ERROR(model.Reorder(parent));
  }

  std::vector<std::vector<Hypothesis>> out(sources);
  for (int64_t b = 0; b < sources; ++b) {
    std::vector<Hypothesis>& f = finished[b];
    for (Hypothesis& h : f) h.score = NormalizedScore(h.log_prob, LengthOf(h), options.alpha);
    std::stable_sort(f.begin(), f.end(),
                     [](const Hypothesis& x, const Hypothesis& y) { return x.score > y.score; });
    const size_t n = std::min<size_t>(f.size(), std::max(1, options.nbest));
    out[b].assign(f.begin(), f.begin() + n);
  }
  return out;
}

}  // namespace rnnflow
