// The single-process truncated-BPTT training loop: chunks of T steps of N
// streams, forward, backward, clipping, optimizer, state carried (detached)
// into the next chunk.
#ifndef RNNFLOW_RUNTIME_TRAINER_H_
#define RNNFLOW_RUNTIME_TRAINER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "ops/optimizer.h"
#include "runtime/session.h"
#include "runtime/token_streams.h"

namespace rnnflow {

struct TrainerOptions {
  std::string data_path;        // raw text (byte tokens)
  int64_t steps = -1;           // overrides training.steps when >= 0
  int64_t truncation_steps = -1;
  int64_t streams = -1;
  float learning_rate = -1.f;   // overrides training.learning_rate.base when > 0
  int64_t seed = -1;
  int threads = 0;              // 0: leave OpenMP's default
  double valid_fraction = 0.1;  // last part of the corpus held out
  int64_t log_every = 10;
  int64_t valid_every = 0;      // 0: validate only at the end
  int64_t valid_chunks = 20;    // chunks per validation pass
  std::string metrics_path;     // JSON lines, appended
  std::ostream* log = nullptr;  // progress lines
};

struct StepResult {
  int64_t step;
  float loss;
  float grad_norm;
  float learning_rate;
  double seconds;
};

class Trainer {
 public:
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const Graph& graph,
                                                         const TrainerOptions& options);

  int64_t T() const { return T_; }
  int64_t N() const { return N_; }
  int64_t total_steps() const { return total_steps_; }
  Session& session() { return *session_; }

  // One optimizer step on the next chunk.
  absl::StatusOr<StepResult> Step();
  // Mean loss per token over `chunks` chunks of the validation split,
  // without updating anything; carried states are saved and restored.
  absl::StatusOr<float> Validate(int64_t chunks);
  // Runs total_steps() steps, logging progress and metrics.
  absl::StatusOr<std::vector<StepResult>> Run();

 private:
  Trainer(const Graph& graph, const TrainerOptions& options) : graph_(graph), options_(options) {}
  absl::Status Init();
  absl::Status Feed(TokenStreams& streams, bool* new_epoch);

  const Graph& graph_;
  TrainerOptions options_;
  int64_t T_ = 0, N_ = 0, total_steps_ = 0;
  uint64_t seed_ = 1;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<TokenStreams> train_, valid_;
  int tokens_input_ = -1, targets_input_ = -1;
  int64_t step_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_TRAINER_H_
