// Comparing a bfloat16 computation with the same one in float32 (the bf16
// tests of ops/internal/rnn_layer.h and ops/internal/rnn_varlen_layer.h).
#ifndef RNNFLOW_TESTS_TESTING_BF16_COMPARE_H_
#define RNNFLOW_TESTS_TESTING_BF16_COMPARE_H_

#include <vector>

namespace rnnflow {

// ||got - want|| / ||want|| (L2 norms, in double).
double RelativeL2(const std::vector<float>& got, const std::vector<float>& want);

// Buffers written by one forward and backward pass of a recurrent layer.
struct RnnPass {
  std::vector<float> y, h_n, c_n, dx, dh0, dc0;
  std::vector<std::vector<float>> dwx, dwh, db;  // per direction
};

// Expects every buffer of `bf16` (c_n and dc0 only if `lstm`) within 3e-2
// relative L2 of the same in `f32`, the bound the callers justify for their
// sizes, and above 1e-6: a result identical to float32 means bf16 never ran.
void ExpectBf16PassClose(const RnnPass& bf16, const RnnPass& f32, bool lstm);

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_BF16_COMPARE_H_
