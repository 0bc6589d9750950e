// The adding problem (Hochreiter & Schmidhuber 1997; the variant of Arjovsky
// et al. 2016): a sequence of L steps, each a pair (value, marker); values
// are uniform in [0, 1), exactly two markers are 1 (one in the first half,
// one in the second), and the target is the sum of the two marked values.
// Predicting the mean sum (1.0) scores MSE 1/6 = 0.167 (the variance of a
// sum of two uniforms) and puts 7.8% of predictions within 0.04 of the
// target; a model has to carry the first marked value across at least L/2
// steps to do better.
//
// The generator is deterministic (SplitMix64 from the seed; no standard
// library distribution, whose output differs between implementations), so a
// (length, count, seed) triple names one data set on every machine. It writes
// `.ex` files (dataset/example_file.h) the trainer reads like the output of
// `rnnflow prepare examples`: tokens all 0 (vocabulary 1, unused by the
// model), values F = 2 per step, a float label K = 1.
#ifndef RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_TASK_H_
#define RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_TASK_H_

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/example_feed.h"

namespace rnnflow::vanilla_vs_gated {

// A prediction within this of the target counts as correct.
inline constexpr double kTolerance = 0.04;

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n).
  int64_t Below(int64_t n) { return static_cast<int64_t>(Uniform() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

inline ExampleFileInfo AddingFileInfo() {
  ExampleFileInfo info;
  info.label_kind = LabelKind::kFloat;
  info.label_width = 1;
  info.features = 2;
  info.vocab_size = 1;
  return info;
}

// `count` sequences of `length` >= 2 steps.
inline std::vector<Example> GenerateAdding(int64_t length, int64_t count, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<Example> out(static_cast<size_t>(count));
  const int64_t half = length / 2;
  for (Example& e : out) {
    e.tokens.assign(static_cast<size_t>(length), 0);
    e.values.assign(static_cast<size_t>(2 * length), 0.f);
    for (int64_t t = 0; t < length; ++t) e.values[2 * t] = static_cast<float>(rng.Uniform());
    const int64_t first = rng.Below(half);
    const int64_t second = half + rng.Below(length - half);
    e.values[2 * first + 1] = 1.f;
    e.values[2 * second + 1] = 1.f;
    e.label_values = {e.values[2 * first] + e.values[2 * second]};
  }
  return out;
}

struct AddingCounts {
  int64_t train = 20000, valid = 2000, test = 2000;
};

// DIR/{train,valid,test}.ex for sequences of `length` steps; the splits are
// drawn from the seeds seed, seed + 1 and seed + 2.
inline absl::Status WriteAddingData(const std::string& dir, int64_t length,
                                    const AddingCounts& counts, uint64_t seed) {
  if (length < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--length ", length, ": the adding problem needs at least 2 steps"));
  }
  if (counts.train < 1 || counts.valid < 0 || counts.test < 0) {
    return absl::InvalidArgumentError("--train must be >= 1, --valid and --test >= 0");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  const std::pair<const char*, int64_t> splits[] = {
      {"train", counts.train}, {"valid", counts.valid}, {"test", counts.test}};
  for (int s = 0; s < 3; ++s) {
    RF_RETURN_IF_ERROR(WriteExampleFile(absl::StrCat(dir, "/", splits[s].first, ".ex"),
                                        AddingFileInfo(),
                                        GenerateAdding(length, splits[s].second, seed + s)));
  }
  return absl::OkStatus();
}

struct AddingScore {
  double mse = 0;       // mean squared error
  double accuracy = 0;  // fraction within kTolerance of the target
  int64_t examples = 0;
};

// Forward passes of a session of a BuildAddingModel graph over every example
// of `file` (batches of N in file order, states from zero); parameters are
// not touched.
inline absl::StatusOr<AddingScore> ScoreAdding(Session& session, const ExampleFeeder& feeder,
                                               const ExampleFile& file) {
  RF_ASSIGN_OR_RETURN(Tensor sum, session.value("sum"));
  const int64_t n = feeder.N();
  if (sum.num_elements() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("output 'sum' has ", sum.num_elements(), " elements; expected N = ", n));
  }
  AddingScore score;
  double squared = 0;
  int64_t correct = 0;
  std::vector<int64_t> slots(static_cast<size_t>(n));
  for (int64_t b = 0; b * n < file.size(); ++b) {
    for (int64_t k = 0; k < n; ++k) slots[k] = b * n + k < file.size() ? b * n + k : -1;
    feeder.Fill(file, slots, session);
    session.ResetStates();
    RF_RETURN_IF_ERROR(session.Forward());
    const float* y = sum.f32();
    for (int64_t k = 0; k < n && slots[k] >= 0; ++k) {
      const double err = static_cast<double>(y[k]) - file.label_values(slots[k])[0];
      squared += err * err;
      correct += std::fabs(err) < kTolerance;
      ++score.examples;
    }
  }
  if (score.examples > 0) {
    score.mse = squared / static_cast<double>(score.examples);
    score.accuracy = static_cast<double>(correct) / static_cast<double>(score.examples);
  }
  return score;
}

}  // namespace rnnflow::vanilla_vs_gated

#endif  // RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_TASK_H_
