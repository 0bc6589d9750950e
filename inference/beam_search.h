// Decoding a sequence model one step at a time: greedy and beam search over
// a StepModel (inference/seq2seq_decoder.h implements it with a trained
// encoder-decoder; tests use small hand-made tables).
//
// Conventions: output id `end_id` ends a hypothesis; hypotheses are scored by
// the sum of their tokens' log-probabilities (natural log), the end token
// included. A hypothesis that reaches `max_length` tokens without the end
// token is kept, unterminated. Beam search ranks final hypotheses by the
// length-normalised score
//     score = log_prob / L^alpha     (L = tokens including the end token)
// so alpha = 0 (the default) ranks by log-probability and alpha = 1 by the
// mean per-token log-probability.
//
// Beam search, per source: K live hypotheses; each step expands all of them
// over the whole vocabulary, ranks the candidates by log-probability
// (ties: lower row, then lower id first) and takes the best 2K: a candidate
// ending in `end_id` among the first K is finished, the others fill the K
// live slots in order. A source stops when it has K finished hypotheses or
// reaches max_length (its live hypotheses then finish unterminated). With
// K = 1 this is greedy decoding. With K at least the number of distinct
// prefixes nothing is pruned, so it is exact search.
#ifndef RNNFLOW_INFERENCE_BEAM_SEARCH_H_
#define RNNFLOW_INFERENCE_BEAM_SEARCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace rnnflow {

// A model decoding `rows()` hypotheses in lock-step. Row r of source b under
// beam width K is b * K + k; the caller prepares each row's initial state
// (e.g. the encoder's final state of source b) before decoding.
class StepModel {
 public:
  virtual ~StepModel() = default;
  virtual int64_t vocab() const = 0;  // output ids 0..vocab-1
  virtual int64_t rows() const = 0;
  // Feeds one token per row (the previous output, or the start symbol) and
  // writes log-probabilities [rows, vocab] of the next token.
  virtual absl::Status Step(absl::Span<const int32_t> tokens, absl::Span<float> log_probs) = 0;
  // Row r continues from the state row parent[r] had after the last Step.
  virtual absl::Status Reorder(absl::Span<const int64_t> parent) = 0;
};

struct DecodeOptions {
  int beam = 1;             // K
  int64_t max_length = 40;  // output tokens, the end token included
  double alpha = 0.0;       // length normalisation exponent (above)
  int32_t start_id = 0;     // fed at the first step
  int32_t end_id = 0;
  int nbest = 1;  // hypotheses returned per source (<= beam)
};

struct Hypothesis {
  std::vector<int32_t> tokens;  // without the end token
  double log_prob = 0;          // sum over tokens, the end token included
  double score = 0;             // length-normalised (above)
  bool finished = false;        // ended with end_id
};

// Argmax at every step for `sources` rows (rows() must be `sources`).
absl::StatusOr<std::vector<Hypothesis>> GreedyDecode(StepModel& model, int64_t sources,
                                                     const DecodeOptions& options);

// Beam search (rows() must be sources x beam, each source's K rows holding
// its initial state). Returns up to nbest hypotheses per source, best first.
absl::StatusOr<std::vector<std::vector<Hypothesis>>> BeamSearch(StepModel& model, int64_t sources,
                                                                const DecodeOptions& options);

// The length-normalised score of a hypothesis with `length` tokens.
double NormalizedScore(double log_prob, int64_t length, double alpha);

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_BEAM_SEARCH_H_
