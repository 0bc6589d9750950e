#include "runtime/trainer.h"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/status_macros.h"

namespace rnnflow {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
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
  T_ = options_.truncation_steps > 0 ? options_.truncation_steps
                                     : (tr.truncation_steps() > 0 ? tr.truncation_steps() : 32);
  N_ = options_.streams > 0 ? options_.streams
                            : (tr.streams_per_worker() > 0 ? tr.streams_per_worker() : 16);
  total_steps_ = options_.steps >= 0 ? options_.steps : (tr.steps() > 0 ? tr.steps() : 100);
  seed_ = options_.seed >= 0 ? static_cast<uint64_t>(options_.seed) : (tr.seed() ? tr.seed() : 1);
  if (options_.threads > 0) omp_set_num_threads(options_.threads);

  for (int id : graph_.graph_inputs()) {
    const InputDef& in = graph_.model().input(graph_.tensor(id).index);
    if (in.feed() == TOKENS) tokens_input_ = id;
    if (in.feed() == NEXT_TOKENS) targets_input_ = id;
  }
  if (tokens_input_ < 0 || targets_input_ < 0) {
    return absl::InvalidArgumentError(
        "training on a text corpus needs one graph input with `feed: TOKENS` and one with "
        "`feed: NEXT_TOKENS`, both INT32 [T, N]");
  }
  for (int id : {tokens_input_, targets_input_}) {
    const TensorInfo& t = graph_.tensor(id);
    if (t.dtype != INT32 || t.shape.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "graph input '", t.name, "' is fed with tokens and must be INT32 [T, N]; got ",
          DataType_Name(t.dtype), " ", ShapeToString(t.shape)));
    }
  }

  SessionOptions so;
  so.bindings = {{"T", T_}, {"N", N_}};
  so.training = true;
  so.seed = seed_;
  RF_ASSIGN_OR_RETURN(session_, Session::Create(graph_, so));

  TrainingDef def = tr;
  if (options_.learning_rate > 0) def.mutable_learning_rate()->set_base(options_.learning_rate);
  std::vector<Shape> shapes;
  for (const ParamInfo& p : graph_.params()) shapes.push_back(p.shape);
  RF_ASSIGN_OR_RETURN(optimizer_, Optimizer::Create(def, shapes));

  const double split = 1.0 - options_.valid_fraction;
  RF_ASSIGN_OR_RETURN(train_,
                      TokenStreams::OpenBytesRange(options_.data_path, 0.0, split, N_, T_));
  if (options_.valid_fraction > 0) {
    auto valid = TokenStreams::OpenBytesRange(options_.data_path, split, 1.0, N_, T_);
    if (valid.ok()) valid_ = *std::move(valid);
  }
  return absl::OkStatus();
}

absl::Status Trainer::Feed(TokenStreams& streams, bool* new_epoch) {
  Tensor tokens = session_->value(tokens_input_);
  Tensor targets = session_->value(targets_input_);
  *new_epoch = streams.Next(absl::MakeSpan(tokens.i32(), tokens.num_elements()),
                            absl::MakeSpan(targets.i32(), targets.num_elements()));
  return absl::OkStatus();
}

absl::StatusOr<StepResult> Trainer::Step() {
  const double start = Now();
  bool new_epoch = false;
  RF_RETURN_IF_ERROR(Feed(*train_, &new_epoch));
  if (new_epoch) session_->ResetStates();
  RF_RETURN_IF_ERROR(session_->Forward());
  RF_RETURN_IF_ERROR(session_->Backward());
  const TrainingDef& tr = graph_.model().training();
  StepResult r;
  r.step = ++step_;
  r.loss = session_->loss();
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
  RF_RETURN_IF_ERROR(optimizer_->Apply(session_->params(), session_->param_grads(),
                                       r.learning_rate));
  session_->CarryStates();
  r.seconds = Now() - start;
  return r;
}

absl::StatusOr<float> Trainer::Validate(int64_t chunks) {
  if (valid_ == nullptr) return absl::FailedPreconditionError("no validation split");
  // Keep the training streams' states; validation runs its own streams.
  std::vector<std::vector<float>> saved;
  for (const Tensor& t : session_->carried_states()) {
    saved.emplace_back(t.f32(), t.f32() + t.num_elements());
  }
  session_->ResetStates();
  valid_->set_position(0);
  double sum = 0;
  int64_t n = std::min(chunks, valid_->chunks_per_epoch());
  for (int64_t i = 0; i < n; ++i) {
    bool new_epoch = false;
    RF_RETURN_IF_ERROR(Feed(*valid_, &new_epoch));
    RF_RETURN_IF_ERROR(session_->Forward());
    sum += session_->loss();
    session_->CarryStates();
  }
  for (size_t k = 0; k < saved.size(); ++k) {
    std::copy(saved[k].begin(), saved[k].end(), session_->carried_states()[k].f32());
  }
  return static_cast<float>(sum / std::max<int64_t>(n, 1));
}

absl::StatusOr<std::vector<StepResult>> Trainer::Run() {
  std::ostream* log = options_.log;
  std::ofstream metrics;
  if (!options_.metrics_path.empty()) {
    metrics.open(options_.metrics_path, std::ios::app);
    if (!metrics) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.metrics_path, ": cannot open for appending"));
    }
  }
  if (log) {
    *log << absl::StrFormat(
        "training %s: %d parameters, T=%d steps x N=%d streams = %d tokens per update, "
        "%d steps, %d threads\n",
        graph_.model().name(), graph_.NumParameters(), T_, N_, T_ * N_, total_steps_,
        omp_get_max_threads());
  }
  std::vector<StepResult> results;
  double window_seconds = 0;
  int64_t window_steps = 0;
  const double start = Now();
  for (int64_t s = 0; s < total_steps_; ++s) {
    RF_ASSIGN_OR_RETURN(StepResult r, Step());
    results.push_back(r);
    window_seconds += r.seconds;
    ++window_steps;
    if (metrics.is_open()) {
      metrics << absl::StrFormat(
          "{\"step\": %d, \"loss\": %.6f, \"grad_norm\": %.6f, \"lr\": %g, \"seconds\": %.6f}\n",
          r.step, r.loss, r.grad_norm, r.learning_rate, r.seconds);
    }
    const bool last = s + 1 == total_steps_;
    if (log && (r.step % options_.log_every == 0 || last || r.step == 1)) {
      const double tps = window_steps * T_ * N_ / std::max(window_seconds, 1e-9);
      const double eta = (total_steps_ - r.step) * (Now() - start) / r.step;
      *log << absl::StrFormat("step %6d/%d  loss %.4f  tokens/s %.0f  lr %.3g  eta %.0fs\n",
                              r.step, total_steps_, r.loss, tps, r.learning_rate, eta);
      log->flush();
      window_seconds = 0;
      window_steps = 0;
    }
    const bool validate = valid_ != nullptr &&
                          ((options_.valid_every > 0 && r.step % options_.valid_every == 0) || last);
    if (validate) {
      RF_ASSIGN_OR_RETURN(float vloss, Validate(options_.valid_chunks));
      if (log) {
        *log << absl::StrFormat("validation at step %d: loss %.4f (%.3f bits/token)\n", r.step,
                                vloss, vloss / std::log(2.0));
      }
      if (metrics.is_open()) {
        metrics << absl::StrFormat(
            "{\"step\": %d, \"valid_loss\": %.6f, \"valid_bits_per_token\": %.6f}\n", r.step,
            vloss, vloss / std::log(2.0));
      }
    }
  }
  return results;
}

}  // namespace rnnflow
