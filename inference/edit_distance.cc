#include "rnnflow/inference/edit_distance.h"

#include <algorithm>

namespace rnnflow {

int64_t EditDistance(absl::Span<const int32_t> a, absl::Span<const int32_t> b) {
  if (a.size() < b.size()) std::swap(a, b);
  // One row over the shorter sequence b.
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({up + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

void ErrorRate::Add(absl::Span<const int32_t> hypothesis,
                    const std::vector<std::vector<int32_t>>& references) {
  if (references.empty()) return;
  int64_t best = -1;
  size_t best_len = 0;
  for (const std::vector<int32_t>& ref : references) {
    const int64_t d = EditDistance(hypothesis, ref);
    if (best < 0 || d < best) {
      best = d;
      best_len = ref.size();
    }
  }
  errors_ += best;
  reference_tokens_ += static_cast<int64_t>(best_len);
  ++sequences_;
  exact_ += best == 0;
}

}  // namespace rnnflow
