#include "rnnflow/training/trainer.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/training/batch_source_factory.h"
#include "rnnflow/training/internal/checkpoint_columns.h"

namespace rnnflow {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// SplitMix64: the initial RNG word of a run derived from its seed.
uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// True when `path` exists, is not empty and does not end with a newline
// (a metrics line cut short by a killed run).
bool EndsWithPartialLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  char last = '\n';
  in.get(last);
  return last != '\n';
}

}  // namespace

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const Graph& graph,
                                                         const TrainerOptions& options) {
  std::unique_ptr<Trainer> t(new Trainer(graph, options));
  RF_RETURN_IF_ERROR(t->Init());
  return t;
}

absl::Status Trainer::Init() {
  const TrainingDef& tr = graph_.model().training();
  // First, while every worker is sure to get here: loading the checkpoint
  // to resume from is collective.
  if (options_.resume) {
    if (options_.checkpoint_dir.empty()) {
      return absl::InvalidArgumentError(
          "TrainerOptions::resume needs TrainerOptions::checkpoint_dir");
    }
    RF_RETURN_IF_ERROR(LoadResumeCheckpoint());
  }
  T_ = options_.truncation_steps > 0 ? options_.truncation_steps
                                     : (tr.truncation_steps() > 0 ? tr.truncation_steps() : 32);
  N_ = options_.streams > 0 ? options_.streams
                            : (tr.streams_per_worker() > 0 ? tr.streams_per_worker() : 16);
  if (resume_from_) {
    // A checkpoint fixes the C global columns (the corpus layout and every
    // carried state); any number of ranks that divides C continues it, each
    // with N = C / ranks streams.
    const int64_t columns = resume_from_->num_streams;
    const std::string& path = resume_from_->path;
    if (columns < 1 || columns % ranks() != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": written with ", columns, " columns (ranks x streams per worker), which ",
          ranks(), " ranks cannot share equally; resume with a number of ranks that divides ",
          columns, " (each then runs ", columns, " / ranks streams)"));
    }
    if (options_.streams > 0 && options_.streams * ranks() != columns) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": written with ", columns, " columns; with ", ranks(), " rank",
          ranks() > 1 ? "s" : "", " that is ", columns / ranks(), " streams per worker, not ",
          options_.streams,
          "; leave TrainerOptions::streams unset (-1) to take the checkpoint's layout"));
    }
    if (N_ != columns / ranks() && options_.log) {
      *options_.log << absl::StrFormat("resuming %d columns on %d rank%s: %d streams per worker\n",
                                       columns, ranks(), ranks() > 1 ? "s" : "", columns / ranks());
    }
    N_ = columns / ranks();
  }
  if (options_.window < -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TrainerOptions::window must be >= 1 rows (0: stateful; -1: training.window); got ",
        options_.window));
  }
  window_ = options_.window >= 0 ? options_.window : tr.window();
  if (window_ > 0) {
    // Windowed series training: one window of W rows is one T-step example.
    if (options_.truncation_steps > 0 && options_.truncation_steps != window_) {
      return absl::InvalidArgumentError(
          absl::StrCat("windowed training runs T = W steps: T = ", options_.truncation_steps,
                       " from TrainerOptions::truncation_steps conflicts with a window of ",
                       window_, " rows (leave one of them unset)"));
    }
    T_ = window_;
  }
  total_steps_ = options_.steps >= 0 ? options_.steps : (tr.steps() > 0 ? tr.steps() : 100);
  seed_ = options_.seed >= 0 ? static_cast<uint64_t>(options_.seed) : (tr.seed() ? tr.seed() : 1);
  if (options_.threads > 0) omp_set_num_threads(options_.threads);

  // Data parallelism: the data is cut into C = ranks x N global columns
  // and this worker reads columns [rank * N, (rank + 1) * N).
  BatchSourceOptions data;
  data.data = options_.data_path;
  data.steps = T_;
  data.streams = N_;
  data.window = window_;
  data.source_steps = options_.source_steps;
  data.rank = options_.world_rank;
  data.ranks = ranks();
  data.seed = seed_;
  data.bucket_window = options_.bucket_window;
  data.validate = options_.validate;

  SessionOptions so;
  RF_ASSIGN_OR_RETURN(so.bindings, BatchBindings(graph_, data));
  so.training = true;
  so.seed = seed_;
  RF_ASSIGN_OR_RETURN(session_, Session::Create(graph_, so));

  TrainingDef def = tr;
  if (options_.learning_rate > 0) def.mutable_learning_rate()->set_base(options_.learning_rate);
  std::vector<Shape> shapes;
  for (const ParamInfo& p : graph_.params()) shapes.push_back(p.shape);
  RF_ASSIGN_OR_RETURN(optimizer_, Optimizer::Create(def, shapes));
  if (options_.reducer != nullptr) {
    RF_RETURN_IF_ERROR(session_->SetGradientReducer(options_.reducer));
  }
  RF_ASSIGN_OR_RETURN(BatchSources sources, OpenBatchSources(*session_, data));
  train_ = std::move(sources.train);
  valid_ = std::move(sources.valid);
  rng_state_ = MixSeed(seed_);
  if (resume_from_) {
    RF_RETURN_IF_ERROR(Restore(*resume_from_));
    if (options_.log) {
      *options_.log << absl::StrFormat("resumed from %s at step %d\n", resume_from_->path, step_);
    }
    resume_from_.reset();
  }
  return absl::OkStatus();
}

std::vector<std::string> Trainer::OptimizerStateNames() const {
  std::vector<std::string> names;
  for (const ParamInfo& p : graph_.params()) {
    for (const std::string& slot : optimizer_->slot_names()) {
      names.push_back(absl::StrCat(p.name, "/", slot));
    }
  }
  return names;
}

CheckpointData Trainer::MakeCheckpoint() const {
  CheckpointData c;
  c.model_hash = ModelHash(graph_.model());
  c.model_name = graph_.model().name();
  c.step = step_;
  c.optimizer_step = optimizer_->step();
  c.schedule_step = optimizer_->step();  // Optimizer::LearningRate reads step()
  c.total_steps = total_steps_;
  c.truncation_steps = T_;
  c.num_streams = N_ * ranks();  // the global columns
  c.stream_length = train_->length();
  c.stream_position = train_->position();
  c.series_window = window_;
  c.seed = seed_;
  c.rng_state = rng_state_;
  std::vector<std::string> param_names;
  for (const ParamInfo& p : graph_.params()) param_names.push_back(p.name);
  c.params = SnapshotTensors(param_names, session_->params());
  c.optimizer = SnapshotTensors(OptimizerStateNames(), optimizer_->StateTensors());
  c.carried = SnapshotTensors(session_->carried_state_names(), session_->carried_states());
  return c;
}

absl::Status Trainer::GatherCarried(CheckpointData& c) const {
  const WorkerGroup& w = *options_.workers;
  const std::vector<int>& axes = session_->carried_state_column_axes();
  for (size_t k = 0; k < c.carried.size(); ++k) {
    CheckpointTensor& t = c.carried[k];
    if (axes[k] < 0) continue;  // no columns: identical on every worker
    std::vector<float> all(w.rank() == 0 ? t.values.size() * w.size() : 0);
    RF_RETURN_IF_ERROR(w.Gather(t.values, absl::MakeSpan(all)));
    if (w.rank() == 0) t.values = MergeColumns(all, t.shape, axes[k], w.size(), &t.shape);
  }
  return absl::OkStatus();
}

absl::Status Trainer::SaveCheckpoint() {
  if (options_.checkpoint_dir.empty()) {
    return absl::FailedPreconditionError("no checkpoint directory");
  }
  CheckpointData c = MakeCheckpoint();
  absl::Status status;
  if (options_.workers != nullptr) status = GatherCarried(c);
  if (status.ok() && options_.world_rank == 0) {
    status = rnnflow::SaveCheckpoint(options_.checkpoint_dir, c, options_.keep_checkpoints);
  }
  if (options_.workers != nullptr) {
    // Every worker returns the writer's verdict, so none trains on alone.
    double failed = status.ok() ? 0 : 1;
    RF_RETURN_IF_ERROR(
        options_.workers->AllReduce(absl::MakeSpan(&failed, 1), WorkerGroup::Op::kMax));
    if (failed > 0 && status.ok()) {
      status = absl::AbortedError("rank 0 could not write the checkpoint (see its message)");
    }
  }
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("cannot write the checkpoint of step ", step_,
                                                    ": ", status.message()));
  }
  auto files = ListCheckpoints(options_.checkpoint_dir);
  last_checkpoint_ = files.ok() && !files->empty() ? files->back() : options_.checkpoint_dir;
  return absl::OkStatus();
}

absl::Status Trainer::Restore(const CheckpointData& c) {
  const std::string& path = c.path.empty() ? std::string("checkpoint") : c.path;
  if (c.series_window >= 0 && c.series_window != window_) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": written by ",
        c.series_window > 0 ? absl::StrCat("windowed training (W = ", c.series_window, ")")
                            : std::string("stateful training"),
        "; this run is ",
        window_ > 0 ? absl::StrCat("windowed (W = ", window_, ")") : std::string("stateful"),
        ": set TrainerOptions::window to ", c.series_window, " to resume it"));
  }
  if (c.truncation_steps != T_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": written with truncation_steps (T) ", c.truncation_steps,
                     "; this run uses ", T_, " (set TrainerOptions::truncation_steps to ",
                     c.truncation_steps, " to continue it exactly)"));
  }
  if (c.num_streams != N_ * ranks()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": written with ", c.num_streams,
                     " columns (ranks x streams per worker); this run has ", ranks(), " x ", N_,
                     " (resume with ", ranks(), " x ", c.num_streams / ranks(),
                     " or any ranks x streams = ", c.num_streams, ")"));
  }
  if (c.stream_length != train_->length()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": written for a train split of length ", c.stream_length, "; this run's has length ",
        train_->length(), ": resume on the same TrainerOptions::data_path"));
  }
  if (c.step < 0 || c.optimizer_step < 0) {
    return absl::DataLossError(absl::StrCat(path, ": negative step ", c.step));
  }
  // The last metadata check: the position (nothing is restored before it).
  if (absl::Status seek = train_->Seek(c.stream_position); !seek.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", seek.message()));
  }
  std::vector<std::string> param_names;
  for (const ParamInfo& p : graph_.params()) param_names.push_back(p.name);
  RF_RETURN_IF_ERROR(
      RestoreCheckpointTensors(path, "parameter", c.params, param_names, session_->params()));
  RF_RETURN_IF_ERROR(RestoreCheckpointTensors(path, "optimizer state", c.optimizer,
                                              OptimizerStateNames(), optimizer_->StateTensors()));
  // The checkpoint holds all C columns of every carried state; this worker
  // takes [rank * N, (rank + 1) * N).
  std::vector<CheckpointTensor> carried = c.carried;
  const std::vector<std::string>& names = session_->carried_state_names();
  const std::vector<int>& axes = session_->carried_state_column_axes();
  for (CheckpointTensor& t : carried) {
    const auto it = std::find(names.begin(), names.end(), t.name);
    if (ranks() == 1 || it == names.end()) continue;
    const int axis = axes[it - names.begin()];
    if (axis < 0 || axis >= static_cast<int>(t.shape.size()) || t.shape[axis] != N_ * ranks()) {
      continue;  // the shape check below reports it
    }
    RF_ASSIGN_OR_RETURN(t.values,
                        TakeColumns(t.values, t.shape, axis, options_.world_rank * N_, N_));
    t.shape[axis] = N_;
  }
  RF_RETURN_IF_ERROR(
      RestoreCheckpointTensors(path, "carried state", carried, names, session_->carried_states()));
  const uint64_t hash = ModelHash(graph_.model());
  if (!CheckpointBelongsTo(c.model_hash, graph_.model())) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: written for a different model ('%s', hash %016x); this model is '%s' (hash %016x). "
        "Parameter names and shapes agree, but nodes or attributes differ",
        path, c.model_name, c.model_hash, graph_.model().name(), hash));
  }
  if (options_.seed >= 0 && static_cast<uint64_t>(options_.seed) != c.seed && options_.log) {
    *options_.log << absl::StrFormat(
        "note: TrainerOptions::seed %d ignored; the checkpoint's seed %d is kept\n", options_.seed,
        c.seed);
  }
  step_ = c.step;
  optimizer_->set_step(c.optimizer_step);
  seed_ = c.seed;
  rng_state_ = c.rng_state;
  last_checkpoint_ = c.path;
  return absl::OkStatus();
}

absl::Status Trainer::LoadResumeCheckpoint() {
  const std::string& dir = options_.checkpoint_dir;
  std::vector<std::string> warnings;
  absl::StatusOr<CheckpointData> c = LoadLatestCheckpoint(dir, &warnings);
  if (options_.log) {
    for (const std::string& w : warnings) *options_.log << "warning: " << w << "\n";
  }
  const bool none = absl::IsNotFound(c.status());
  const absl::Status mine = none ? absl::OkStatus() : c.status();
  if (options_.workers != nullptr) {
    // Every worker reads the directory itself (it must be shared); they must
    // all find the same newest checkpoint, or none.
    const double step = c.ok() ? static_cast<double>(c->step) : -1;
    double v[3] = {mine.ok() ? 0.0 : 1.0, step, -step};
    RF_RETURN_IF_ERROR(options_.workers->AllReduce(absl::MakeSpan(v), WorkerGroup::Op::kMax));
    RF_RETURN_IF_ERROR(mine);
    if (v[0] > 0) {
      return absl::AbortedError(absl::StrCat(
          dir, ": another rank could not read its newest checkpoint (see its message)"));
    }
    if (v[1] != -v[2]) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the ranks found different newest checkpoints (steps %.0f to %.0f; -1: none); every "
          "rank must read the same checkpoint directory (a shared filesystem)",
          dir, -v[2], v[1]));
    }
  }
  RF_RETURN_IF_ERROR(mine);
  if (none) {
    if (options_.log) *options_.log << "no checkpoint in " << dir << "; starting from step 0\n";
    return absl::OkStatus();
  }
  resume_from_ = *std::move(c);
  return absl::OkStatus();
}

absl::StatusOr<StepResult> Trainer::Step() {
  const double start = Now();
  const BatchFeed feed = train_->FeedNext(*session_);
  const double data_seconds = Now() - start;
  if (feed.zero_states) session_->ResetStates();
  {
    // Only this step's passes train (Dropout active); its random draws are
    // keyed by the checkpointed RNG word, the step and the global column
    // (rank r holds columns [rN, (r + 1)N)), so a resume is exact at any
    // worker count and R ranks draw what one process of R x N columns does.
    RunInfo run;
    run.training = true;
    run.seed = rng_state_;
    run.step = step_;
    run.first_column = static_cast<int64_t>(options_.world_rank) * N_;
    session_->set_run_info(run);
    auto to_inference = absl::MakeCleanup([this] { session_->set_run_info(RunInfo()); });
    RF_RETURN_IF_ERROR(session_->Forward());
    RF_RETURN_IF_ERROR(session_->Backward());
  }
  const TrainingDef& tr = graph_.model().training();
  StepResult r;
  r.data_seconds = data_seconds;
  r.step = ++step_;
  r.loss = session_->loss();
  if (train_->has_accuracy()) {
    const Score score = train_->Accuracy(*session_);
    if (score.total > 0) r.accuracy = score.accuracy();
  }
  if (options_.reducer != nullptr) {
    r.comm_seconds = options_.reducer->last_seconds();
    r.comm_exposed_seconds = options_.reducer->last_exposed_seconds();
  }
  if (options_.workers != nullptr) {
    // One small collective per step: the mean loss, and whether any worker
    // was asked to stop (all then stop after this same step).
    double v[2] = {r.loss, options_.stop_requested && options_.stop_requested() ? 1.0 : 0.0};
    RF_RETURN_IF_ERROR(options_.workers->AllReduce(absl::MakeSpan(v), WorkerGroup::Op::kSum));
    r.loss = static_cast<float>(v[0] / options_.workers->size());
    stop_agreed_ = v[1] > 0;
  }
  r.grad_norm = ClipByGlobalNorm(session_->param_grads(), tr.clip_global_norm());
  r.learning_rate = options_.learning_rate > 0 && tr.learning_rate().schedule().empty()
                        ? options_.learning_rate
                        : optimizer_->LearningRate(total_steps_);
  if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm)) {
    return absl::InternalError(absl::StrCat("step ", r.step, ": the loss (", r.loss,
                                            ") or gradient norm (", r.grad_norm,
                                            ") is not finite; lower the learning rate or "
                                            "enable clip_global_norm"));
  }
  RF_RETURN_IF_ERROR(
      optimizer_->Apply(session_->params(), session_->param_grads(), r.learning_rate));
  // Carried into the next batch; a source whose batches start afresh has
  // them zeroed first (BatchFeed::zero_states).
  session_->CarryStates();
  r.seconds = Now() - start;
  return r;
}

absl::StatusOr<float> Trainer::Validate(int64_t max_batches) {
  RF_ASSIGN_OR_RETURN(const Evaluation ev, ValidationPass(max_batches));
  return static_cast<float>(ev.loss);
}

absl::StatusOr<Evaluation> Trainer::ValidationPass(int64_t max_batches) {
  if (valid_ == nullptr) return absl::FailedPreconditionError("no validation split");
  // The training batches' states stay; validation runs its own.
  std::vector<std::vector<float>> saved;
  for (const Tensor& t : session_->carried_states()) {
    saved.emplace_back(t.f32(), t.f32() + t.num_elements());
  }
  auto restore = absl::MakeCleanup([&] {
    for (size_t k = 0; k < saved.size(); ++k) {
      std::copy(saved[k].begin(), saved[k].end(), session_->carried_states()[k].f32());
    }
  });
  RF_RETURN_IF_ERROR(valid_->Seek(0));
  RF_ASSIGN_OR_RETURN(Evaluation ev,
                      Evaluate(*session_, *valid_, valid_->PassBatches(max_batches)));
  if (options_.workers != nullptr && valid_->reads_own_columns()) {
    RF_RETURN_IF_ERROR(
        options_.workers->AllReduce(absl::MakeSpan(&ev.loss, 1), WorkerGroup::Op::kSum));
    ev.loss /= options_.workers->size();
  }
  return ev;
}

absl::Status Trainer::ReportValidation(std::ofstream& metrics) {
  RF_ASSIGN_OR_RETURN(const Evaluation ev, ValidationPass(options_.valid_chunks));
  if (options_.log) {
    *options_.log << absl::StrFormat("validation at step %d: loss %.4f%s\n", step_, ev.loss,
                                     valid_->LossNote(ev));
  }
  if (metrics.is_open()) {
    metrics << absl::StrFormat("{\"step\": %d, \"valid_loss\": %.9g%s}\n", step_, ev.loss,
                               valid_->MetricFields(ev));
    metrics.flush();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StepResult>> Trainer::Run() {
  std::ostream* log = options_.log;
  interrupted_ = false;
  std::ofstream metrics;
  if (!options_.metrics_path.empty()) {
    const bool partial = EndsWithPartialLine(options_.metrics_path);
    const std::filesystem::path parent = std::filesystem::path(options_.metrics_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    metrics.open(options_.metrics_path, std::ios::app);
    if (!metrics) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.metrics_path, ": cannot open for appending",
                       ec ? absl::StrCat(" (", ec.message(), ")") : std::string()));
    }
    if (partial) metrics << "\n";  // a killed run's last line stays unparsable alone
  }
  if (log) {
    const std::string more = train_->DescribeData(valid_.get());
    *log << absl::StrFormat("training %s: %d parameters, %s, %d steps, %d threads\n%s",
                            graph_.model().name(), graph_.NumParameters(), train_->DescribeBatch(),
                            total_steps_, omp_get_max_threads(), more.empty() ? more : more + "\n");
  }
  const bool checkpointing = !options_.checkpoint_dir.empty();
  int64_t saved_step = last_checkpoint_.empty() ? -1 : step_;
  auto save = [&]() -> absl::Status {
    if (!checkpointing || saved_step == step_) return absl::OkStatus();
    RF_RETURN_IF_ERROR(SaveCheckpoint());
    saved_step = step_;
    if (log) *log << absl::StrFormat("checkpoint of step %d: %s\n", step_, last_checkpoint_);
    return absl::OkStatus();
  };
  std::vector<StepResult> results;
  double window_seconds = 0;
  int64_t window_steps = 0;
  const int64_t first_step = step_;
  const double start = Now();
  const bool distributed = options_.workers != nullptr;
  double window_comm = 0, window_exposed = 0;
  while (step_ < total_steps_) {
    // Alone, stop before the next step; with workers, Step() agrees on it.
    if (!distributed && options_.stop_requested && options_.stop_requested()) {
      interrupted_ = true;
      break;
    }
    RF_ASSIGN_OR_RETURN(StepResult r, Step());
    results.push_back(r);
    window_seconds += r.seconds;
    window_comm += r.comm_seconds;
    window_exposed += r.comm_exposed_seconds;
    ++window_steps;
    if (metrics.is_open()) {
      // %.9g round-trips a float, so runs can be compared exactly.
      metrics << absl::StrFormat(
          "{\"step\": %d, \"loss\": %.9g, \"grad_norm\": %.9g, \"lr\": %.9g, \"seconds\": "
          "%.6f, \"data_seconds\": %.6f",
          r.step, r.loss, r.grad_norm, r.learning_rate, r.seconds, r.data_seconds);
      if (r.accuracy >= 0) metrics << absl::StrFormat(", \"accuracy\": %.9g", r.accuracy);
      if (options_.reducer != nullptr) {
        metrics << absl::StrFormat(", \"comm_seconds\": %.6f, \"comm_exposed_seconds\": %.6f",
                                   r.comm_seconds, r.comm_exposed_seconds);
      }
      metrics << "}\n";
      metrics.flush();
    }
    const bool last = r.step == total_steps_;
    const bool log_line = r.step % options_.log_every == 0 || last || r.step == first_step + 1;
    if (log && (log_line || options_.tty)) {
      // On a terminal the current line is redrawn every step and kept every
      // log_every steps; elsewhere (files, pipes) only the kept lines appear.
      // Throughput of all workers together.
      const double tps =
          window_steps * train_->units_per_batch() * ranks() / std::max(window_seconds, 1e-9);
      const double eta = (total_steps_ - r.step) * (Now() - start) / (r.step - first_step);
      const std::string comm = options_.reducer == nullptr
                                   ? std::string()
                                   : absl::StrFormat("  allreduce %.1f ms (%.1f exposed)",
                                                     1e3 * window_comm / window_steps,
                                                     1e3 * window_exposed / window_steps);
      *log << absl::StrFormat("%sstep %6d/%d  loss %.4f%s  %s/s %.0f  lr %.3g%s  eta %.0fs%s",
                              options_.tty ? "\r\033[K" : "", r.step, total_steps_, r.loss,
                              r.accuracy >= 0 ? absl::StrFormat("  acc %.3f", r.accuracy) : "",
                              train_->unit(), tps, r.learning_rate, comm, eta,
                              log_line ? "\n" : "");
      log->flush();
      if (log_line) {
        window_seconds = window_comm = window_exposed = 0;
        window_steps = 0;
      }
    }
    if (valid_ != nullptr &&
        ((options_.valid_every > 0 && r.step % options_.valid_every == 0) || last)) {
      RF_RETURN_IF_ERROR(ReportValidation(metrics));
    }
    if (options_.checkpoint_every > 0 && r.step % options_.checkpoint_every == 0) {
      RF_RETURN_IF_ERROR(save());
    }
    if (distributed && stop_agreed_) {
      interrupted_ = true;
      break;
    }
  }
  RF_RETURN_IF_ERROR(save());
  if (log && interrupted_) {
    *log << absl::StrFormat("stopped at step %d of %d", step_, total_steps_);
    if (checkpointing) *log << "; continue with TrainerOptions::resume";
    *log << "\n";
    log->flush();
  }
  return results;
}

}  // namespace rnnflow
