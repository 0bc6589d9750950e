// Data-parallel checkpoints hold every global column's carried state; each
// worker holds only its own columns. These convert between the two layouts
// along a tensor's column axis (Session::carried_state_column_axes()).
#ifndef RNNFLOW_TRAINING_INTERNAL_CHECKPOINT_COLUMNS_H_
#define RNNFLOW_TRAINING_INTERNAL_CHECKPOINT_COLUMNS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/shape.h"

namespace rnnflow {

// `gathered` is what worker 0 receives from all `workers` (rank order), each
// a tensor of `local_shape` whose axis `axis` holds that worker's columns;
// returns the tensor with all columns in global order (worker r's column n
// is global column r * local_shape[axis] + n), and its shape in `shape`.
std::vector<float> MergeColumns(absl::Span<const float> gathered, const Shape& local_shape,
                                int axis, int workers, Shape* shape);

// The columns [first, first + count) along `axis` of a tensor of `shape`.
// Fails when they are not within the tensor.
absl::StatusOr<std::vector<float>> TakeColumns(absl::Span<const float> values, const Shape& shape,
                                               int axis, int64_t first, int64_t count);

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_INTERNAL_CHECKPOINT_COLUMNS_H_
