// Levenshtein distance between token sequences (unit-cost insertions,
// deletions and substitutions) and the error rates built on it: phoneme
// error rate = total distance / total reference length, and word accuracy
// (exact matches). Used by `rnnflow decode --eval` (tools/decode_command.cc).
#ifndef RNNFLOW_INFERENCE_EDIT_DISTANCE_H_
#define RNNFLOW_INFERENCE_EDIT_DISTANCE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace rnnflow {

// O(|a| |b|) time, O(min) memory.
int64_t EditDistance(absl::Span<const int32_t> a, absl::Span<const int32_t> b);

// Accumulates hypotheses scored against one or more references (a word with
// alternate pronunciations): the closest reference counts.
class ErrorRate {
 public:
  void Add(absl::Span<const int32_t> hypothesis,
           const std::vector<std::vector<int32_t>>& references);
  int64_t errors() const { return errors_; }
  int64_t reference_tokens() const { return reference_tokens_; }
  int64_t sequences() const { return sequences_; }
  int64_t exact() const { return exact_; }
  // errors / reference tokens.
  double token_error_rate() const {
    return reference_tokens_ > 0 ? static_cast<double>(errors_) / reference_tokens_ : 0.0;
  }
  double sequence_accuracy() const {
    return sequences_ > 0 ? static_cast<double>(exact_) / sequences_ : 0.0;
  }

 private:
  int64_t errors_ = 0, reference_tokens_ = 0, sequences_ = 0, exact_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_EDIT_DISTANCE_H_
