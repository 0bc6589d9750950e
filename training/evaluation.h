// What a pass over a split measured (training/batch_source.h): the mean
// loss, and where the loss classifies, how many predictions were right.
#ifndef RNNFLOW_TRAINING_EVALUATION_H_
#define RNNFLOW_TRAINING_EVALUATION_H_

#include <cstdint>

namespace rnnflow {

// Correct predictions out of scored positions.
struct Score {
  int64_t correct = 0;
  int64_t total = 0;
  double accuracy() const { return total > 0 ? static_cast<double>(correct) / total : 0.0; }
};

struct Evaluation {
  double loss = 0;  // the mean over the pass, each batch weighted by BatchFeed::weight
  Score score;      // when the source scores its batches (has_accuracy)
  bool has_accuracy = false;
  // Labelled examples: real examples scored, of which sources longer than
  // the source steps, and (pairs) targets + end longer than the target steps.
  int64_t examples = 0;
  int64_t truncated = 0;
  int64_t target_truncated = 0;
  int64_t batches = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_EVALUATION_H_
