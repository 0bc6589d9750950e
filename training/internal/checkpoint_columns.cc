#include "rnnflow/training/internal/checkpoint_columns.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace rnnflow {
namespace {

// Elements before and after `axis`.
void OuterInner(const Shape& shape, int axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int a = 0; a < static_cast<int>(shape.size()); ++a) {
    if (a < axis) *outer *= shape[a];
    if (a > axis) *inner *= shape[a];
  }
}

}  // namespace

std::vector<float> MergeColumns(absl::Span<const float> gathered, const Shape& local_shape,
                                int axis, int workers, Shape* shape) {
  int64_t outer = 0, inner = 0;
  OuterInner(local_shape, axis, &outer, &inner);
  const int64_t n = local_shape[axis];
  const int64_t local = outer * n * inner;
  *shape = local_shape;
  (*shape)[axis] = n * workers;
  std::vector<float> out(gathered.size());
  for (int r = 0; r < workers; ++r) {
    for (int64_t o = 0; o < outer; ++o) {
      const float* src = gathered.data() + r * local + o * n * inner;
      float* dst = out.data() + (o * workers + r) * n * inner;
      std::copy(src, src + n * inner, dst);
    }
  }
  return out;
}

absl::StatusOr<std::vector<float>> TakeColumns(absl::Span<const float> values, const Shape& shape,
                                               int axis, int64_t first, int64_t count) {
  if (axis < 0 || axis >= static_cast<int>(shape.size()) || first < 0 || count < 0 ||
      first + count > shape[axis]) {
    return absl::OutOfRangeError(absl::StrCat("columns [", first, ", ", first + count,
                                              ") along axis ", axis, " of a tensor of shape ",
                                              ShapeToString(shape)));
  }
  int64_t outer = 0, inner = 0;
  OuterInner(shape, axis, &outer, &inner);
  const int64_t total = shape[axis];
  std::vector<float> out(outer * count * inner);
  for (int64_t o = 0; o < outer; ++o) {
    const float* src = values.data() + (o * total + first) * inner;
    std::copy(src, src + count * inner, out.data() + o * count * inner);
  }
  return out;
}

}  // namespace rnnflow
