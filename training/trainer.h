// The training loop: batches pulled from a batch source (training/
// batch_source.h: chunks of T steps of N streams with the state carried,
// detached, into the next chunk; windows or labelled examples from a zero
// state), forward, backward, clipping, optimizer; validation passes,
// checkpoints and exact resume; data parallelism across workers.
#ifndef RNNFLOW_TRAINING_TRAINER_H_
#define RNNFLOW_TRAINING_TRAINER_H_

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/gradient_reducer.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/runtime/worker_group.h"
#include "rnnflow/training/batch_source.h"
#include "rnnflow/training/evaluation.h"
#include "rnnflow/training/optimizer.h"

namespace rnnflow {

struct TrainerOptions {
  // Raw text (byte tokens) or a prepared directory: `prepare text` for
  // models fed TOKENS / NEXT_TOKENS, `prepare series` for models fed
  // SERIES / NEXT_SERIES (float [T, N, F], F = the prepared columns),
  // `prepare examples` for models fed EXAMPLE_* (training/example_batch_source.h:
  // T = the longest example fed, N = examples per batch per worker). The
  // model's feeds choose the batch source (training/batch_source_factory.h).
  std::string data_path;
  int64_t steps = -1;  // overrides training.steps when >= 0
  int64_t truncation_steps = -1;
  // Example models whose source runs over its own time symbol (e.g. S): its
  // steps (<= 0: the longest source of the train and valid splits).
  int64_t source_steps = -1;
  int64_t streams = -1;
  float learning_rate = -1.f;  // overrides training.learning_rate.base when > 0
  int64_t seed = -1;
  int threads = 0;       // 0: leave OpenMP's default
  bool validate = true;  // use the corpus' validation split
  int64_t log_every = 10;
  int64_t valid_every = 0;    // 0: validate only at the end
  int64_t valid_chunks = 20;  // batches per validation pass (example models: the whole split)
  int64_t bucket_window = 0;  // example models: batches per length-sorting window (0: off)
  // Series models: W > 0 trains on windows of W rows from a zero state
  // (dataset/series_windows.h; T = W), 0 stateful TBPTT; -1: training.window.
  int64_t window = -1;
  std::string metrics_path;     // JSON lines, appended
  std::ostream* log = nullptr;  // progress lines
  bool tty = false;             // `log` is a terminal: redraw one progress line

  // Checkpoints (runtime/checkpoint.h). With a directory, Run() writes one
  // every `checkpoint_every` steps (0: none along the way), after the last
  // step, and when `stop_requested` returns true; only the newest
  // `keep_checkpoints` are kept (0: all).
  std::string checkpoint_dir;
  // Data parallelism (dist/): gradients are averaged by `reducer` during the
  // backward pass; this worker is `world_rank` of `world_size`. `workers`
  // (set with `reducer`) makes the run agree across workers: the logged loss
  // is the mean over all of them, a stop requested on any worker stops all
  // after the same step, and checkpoints hold every worker's columns
  // (written by worker 0; see Init for how a resume splits them).
  GradientReducer* reducer = nullptr;
  const WorkerGroup* workers = nullptr;
  int world_rank = 0;
  int world_size = 1;
  int64_t checkpoint_every = 100;
  int keep_checkpoints = 3;
  // Continue from the newest valid checkpoint in checkpoint_dir. When the
  // directory holds none, training starts from step 0 (so one command line
  // serves both the first start and every restart of a preemptible job).
  bool resume = false;
  // Polled between steps (e.g. set by a SIGINT handler): Run() then writes a
  // checkpoint (when checkpoint_dir is set) and returns early.
  std::function<bool()> stop_requested;
};

struct StepResult {
  int64_t step;
  float loss;
  float grad_norm;
  float learning_rate;
  double seconds;       // the whole step
  double data_seconds;  // of which reading the next chunk from the corpus
  // Data parallel: the gradient all-reduce, from the first bucket's start to
  // the last one's end, and the part of it the backward pass waited for in
  // GradientReducer::Finish (not hidden behind backward computation).
  double comm_seconds = 0;
  double comm_exposed_seconds = 0;
  double accuracy = -1;  // example models with a classification loss; else -1
};

class Trainer {
 public:
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const Graph& graph,
                                                         const TrainerOptions& options);

  int64_t T() const { return T_; }
  int64_t N() const { return N_; }
  int64_t total_steps() const { return total_steps_; }
  Session& session() { return *session_; }

  // One optimizer step on the next chunk. With `workers`, collective (and
  // StepResult::loss is the mean over all workers).
  absl::StatusOr<StepResult> Step();
  // The mean loss of one validation pass: at most `max_batches` batches of
  // the valid split from its start (<= 0: all of it; example models: always
  // all of it), without updating anything; carried states are saved and
  // restored. With `workers`, collective (the mean over all workers).
  absl::StatusOr<float> Validate(int64_t max_batches);
  // Runs the steps from step() to total_steps(), logging progress and
  // metrics and writing checkpoints.
  absl::StatusOr<std::vector<StepResult>> Run();

  // Optimizer steps completed (restored by a resume).
  int64_t step() const { return step_; }
  // Whether the last Run() stopped early because stop_requested said so.
  bool interrupted() const { return interrupted_; }
  // The path of the last checkpoint written or resumed from ("" if none).
  const std::string& last_checkpoint() const { return last_checkpoint_; }

  // Everything needed to continue this run exactly; with several workers,
  // the carried states are this worker's columns only.
  CheckpointData MakeCheckpoint() const;
  // Writes MakeCheckpoint() into options.checkpoint_dir. With `workers`,
  // collective: worker 0 gathers every worker's carried states and writes
  // one file holding all C = ranks x N columns; all return its status.
  absl::Status SaveCheckpoint();
  // Restores a checkpoint of this model (same parameters, optimizer slots,
  // T, corpus split and C = ranks x N global columns; carried states of all
  // C columns, of which this worker takes its own). Errors name the file and
  // the mismatch; nothing is partially restored on a metadata mismatch.
  absl::Status Restore(const CheckpointData& checkpoint);

 private:
  Trainer(const Graph& graph, const TrainerOptions& options) : graph_(graph), options_(options) {}
  absl::Status Init();
  absl::StatusOr<Evaluation> ValidationPass(int64_t max_batches);
  // Validates at step_, logging the pass and appending it to `metrics`.
  absl::Status ReportValidation(std::ofstream& metrics);
  absl::Status LoadResumeCheckpoint();
  absl::Status GatherCarried(CheckpointData& c) const;
  int ranks() const { return std::max(1, options_.world_size); }
  std::vector<std::string> OptimizerStateNames() const;

  const Graph& graph_;
  TrainerOptions options_;
  int64_t T_ = 0, N_ = 0, total_steps_ = 0;
  // Series models: windows of W rows (W > 0, T = W) instead of streams;
  // checkpointed, as a resume must train the same way.
  int64_t window_ = 0;
  uint64_t seed_ = 1;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Optimizer> optimizer_;
  // The train split's batches, and the valid split's (nullptr: none).
  std::unique_ptr<BatchSource> train_, valid_;
  int64_t step_ = 0;
  uint64_t rng_state_ = 0;  // the seed of training passes' RunInfo; checkpointed
  bool interrupted_ = false;
  bool stop_agreed_ = false;                   // with workers: some worker asked to stop
  std::optional<CheckpointData> resume_from_;  // loaded by Init, restored once set up
  std::string last_checkpoint_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_TRAINING_TRAINER_H_
