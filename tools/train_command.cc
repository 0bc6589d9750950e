#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/initializer.h"
#include "rnnflow/training/trainer.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

// The signal that asked training to stop (SIGINT or SIGTERM), 0 if none.
std::atomic<int> g_stop_signal{0};

// SIGINT (Ctrl-C) and SIGTERM stop training between two steps; the trainer
// then writes a checkpoint. A second one terminates at once. Under mpirun
// SIGUSR1 does the same: mpirun forwards it to every rank, while its own
// SIGINT / SIGTERM handling kills the ranks one second after passing them a
// SIGTERM (Open MPI's odls_base_sigkill_timeout), often before a checkpoint.
//
// No signal handler runs on a training thread: the signals are blocked in
// this thread, and so in every thread it creates later (OpenMP workers), and
// a dedicated thread receives them with sigwait. (A handler runs on the
// stack of the thread it interrupts, and oneDNN's JIT GEMM runs on a heap
// buffer it uses as its stack: a signal frame pushed there corrupts the
// heap. Seen as "corrupted size vs. prev_size" aborts after Ctrl-C.)
void StartStopSignalThread(bool usr1) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (usr1) sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int signo = 0;
    if (sigwait(&set, &signo) != 0) return;
    g_stop_signal = signo;
    if (sigwait(&set, &signo) != 0) return;
    // The second signal: its default action, i.e. terminate now.
    signal(signo, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    raise(signo);
  }).detach();
}

}  // namespace

int RunTrain(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"data", "PATH",
       "a directory from `rnnflow prepare text`, or a raw text file "
       "(byte tokens; last 10% = validation); for models fed SERIES, a "
       "directory from `rnnflow prepare series`; for models fed EXAMPLE_*, one from "
       "`rnnflow prepare examples` (T = longest example fed, N = examples per batch)",
       "TrainerOptions::data_path"},
      {"steps", "N", "optimizer steps (overrides training.steps)", "TrainerOptions::steps"},
      {"truncation-steps", "T", "steps per truncated-BPTT chunk",
       "TrainerOptions::truncation_steps"},
      {"source-steps", "S",
       "pairs whose source has its own time symbol: its steps (default: the longest source)",
       "TrainerOptions::source_steps"},
      {"streams-per-worker", "N", "parallel streams (batch) per worker", "TrainerOptions::streams"},
      {"lr", "X", "base learning rate", "TrainerOptions::learning_rate"},
      {"seed", "S", "random seed (initialisation)", "TrainerOptions::seed"},
      {"threads", "N", "OpenMP threads", "TrainerOptions::threads"},
      {"no-validation", "", "skip validation", "TrainerOptions::validate"},
      {"valid-every", "N", "validate every N steps (default: at the end)",
       "TrainerOptions::valid_every"},
      {"window", "W",
       "series models: train on shuffled windows of W rows, each from a zero state (T = W; "
       "default: training.window; 0: stateful TBPTT)",
       "TrainerOptions::window"},
      {"bucket-window", "W",
       "example models: sort examples by length within windows of W batches (default 0: off)",
       "TrainerOptions::bucket_window"},
      {"log-every", "N", "progress line every N steps (default 10)", "TrainerOptions::log_every"},
      {"metrics", "FILE", "append one JSON object per step", "TrainerOptions::metrics_path"},
      {"bucket-mb", "MB", "under mpirun: gradient all-reduce bucket size (default 4)"},
      {"allreduce-timeout", "S", "under mpirun: seconds before a stalled all-reduce fails (60)"},
      {"checkpoint-dir", "DIR", "write checkpoints (ckpt-<step>.rfck) into DIR",
       "TrainerOptions::checkpoint_dir"},
      {"checkpoint-every", "N", "checkpoint every N steps (default 100; 0: only at the end)",
       "TrainerOptions::checkpoint_every"},
      {"keep-checkpoints", "K", "keep the newest K checkpoints (default 3; 0: all)",
       "TrainerOptions::keep_checkpoints"},
      {"resume", "",
       "continue from the newest valid checkpoint in --checkpoint-dir (starts "
       "at "
       "step 0 when there is none)",
       "TrainerOptions::resume"},
  };
  const std::string usage =
      Usage("rnnflow train", "MODEL.pbtxt --data CORPUS [flags]",
            "Trains MODEL on CORPUS with truncated backpropagation through "
            "time: the corpus is\n"
            "cut into N contiguous streams, each step takes T tokens of every "
            "stream, and the\n"
            "hidden state is carried (detached) from one chunk to the next.\n\n"
            "With --checkpoint-dir, Ctrl-C (SIGINT) or SIGTERM stops after the "
            "current step,\n"
            "writes a checkpoint and exits with status 130 (SIGINT) or 143 "
            "(SIGTERM); a second\n"
            "Ctrl-C kills at once. `--resume` continues exactly: the same "
            "losses, step for step,\n"
            "as a run that was never stopped (same flags, one thread).\n\n"
            "Under mpirun every rank runs this command and reads its share of "
            "C = ranks x N columns.\n"
            "A checkpoint holds all C columns; --resume continues it with any "
            "number of ranks that\n"
            "divides C (N = C / ranks). A stop signal to any rank (SIGUSR1 to "
            "mpirun reaches all)\n"
            "stops every rank after the same step, with one checkpoint.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow train", args, specs, usage, 1, {"data"}, &flags)) {
    return *exit;
  }
  auto graph = LoadGraph(flags.positional[0]);
  if (!graph.ok()) return Fail(flags, graph.status());

  TrainerOptions options;
  options.data_path = flags.Get("data");
  options.metrics_path = flags.Get("metrics");
  options.log = &std::cout;
  options.tty = isatty(STDOUT_FILENO) != 0;
  absl::Status status;
  auto get_int = [&](const char* name, int64_t fallback) -> int64_t {
    auto v = flags.GetInt(name, fallback);
    if (!v.ok()) {
      status = v.status();
      return fallback;
    }
    return *v;
  };
  options.steps = get_int("steps", -1);
  options.truncation_steps = get_int("truncation-steps", -1);
  options.source_steps = get_int("source-steps", -1);
  options.streams = get_int("streams-per-worker", -1);
  options.seed = get_int("seed", -1);
  options.threads = static_cast<int>(get_int("threads", 0));
  options.valid_every = get_int("valid-every", 0);
  options.bucket_window = get_int("bucket-window", 0);
  options.window = get_int("window", -1);
  if (status.ok() && flags.Has("window") && options.window < 0) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "--window must be >= 1 rows (0: stateful truncated BPTT); got ", options.window));
  }
  options.log_every = std::max<int64_t>(1, get_int("log-every", 10));
  options.checkpoint_dir = flags.Get("checkpoint-dir");
  options.checkpoint_every = get_int("checkpoint-every", 100);
  options.keep_checkpoints = static_cast<int>(get_int("keep-checkpoints", 3));
  options.resume = flags.Has("resume") && flags.Get("resume") != "false";
  if (status.ok() && (options.checkpoint_every < 0 || options.keep_checkpoints < 0)) {
    status = absl::InvalidArgumentError("--checkpoint-every and --keep-checkpoints must be >= 0");
  }
  if (status.ok() && options.resume && options.checkpoint_dir.empty()) {
    status = absl::InvalidArgumentError("--resume needs --checkpoint-dir DIR");
  }
  auto lr = flags.GetDouble("lr", -1);
  if (!lr.ok()) status = lr.status();
  if (!status.ok()) return Fail(flags, status, 2);
  options.learning_rate = static_cast<float>(*lr);
  options.validate = !flags.Has("no-validation");

  // Under mpirun every rank runs this command; rank 0 reports.
  std::unique_ptr<MpiWorld> world;
  std::unique_ptr<BucketedAllReducer> reducer;
  const bool under_mpi =
      std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
  if (!options.checkpoint_dir.empty()) {
    // Before MPI_Init, so that MPI's own threads inherit the blocked signals
    // too (a thread that does not block SIGTERM would take its default
    // action: end the process without a checkpoint).
    options.stop_requested = [] { return g_stop_signal.load() != 0; };
    StartStopSignalThread(/*usr1=*/under_mpi);
  }
  if (under_mpi) {
    // Open MPI hands ranks a pseudo-terminal even when mpirun's output goes
    // to a file: no redrawn progress line then.
    options.tty = false;
    auto w = MpiWorld::Init(nullptr, nullptr);
    if (!w.ok()) return Fail(flags, w.status());
    world = *std::move(w);
    auto bucket_mb = flags.GetDouble("bucket-mb", 4);
    auto timeout = flags.GetDouble("allreduce-timeout", 60);
    if (!bucket_mb.ok() || !timeout.ok()) {
      return Fail(flags,
                  absl::InvalidArgumentError("--bucket-mb and --allreduce-timeout expect numbers"),
                  2);
    }
    reducer = std::make_unique<BucketedAllReducer>(
        world->comm(), static_cast<int64_t>(*bucket_mb * (1 << 20)), *timeout);
    options.reducer = reducer.get();
    options.workers = world.get();
    options.world_rank = world->rank();
    options.world_size = world->size();
    if (world->rank() != 0) {
      options.log = nullptr;
      options.metrics_path.clear();
    }
    std::string config = ModelToText(graph->model());
    for (const std::string& a : args) absl::StrAppend(&config, "\n", a);
    if (auto st = world->CheckSameEverywhere("the model or the command line", StableHash(config));
        !st.ok()) {
      return Fail(flags, st);
    }
  }
  auto trainer = Trainer::Create(*graph, options);
  if (world != nullptr) {
    // Every rank learns whether all of them could start.
    if (!world->AllOk(trainer.ok())) {
      return trainer.ok() ? Fail(flags, absl::AbortedError("another rank failed to start"))
                          : Fail(flags, trainer.status());
    }
    uint64_t params_hash = 0;
    for (const Tensor& p : (*trainer)->session().params()) {
      params_hash =
          StableHash(std::string(static_cast<const char*>(p.data()), p.num_bytes()), params_hash);
    }
    for (auto [what, hash] :
         {std::pair<const char*, uint64_t>{"the gradient bucket plan", reducer->PlanHash()},
          {"the initial parameters", params_hash}}) {
      if (auto st = world->CheckSameEverywhere(what, hash); !st.ok()) return Fail(flags, st);
    }
    const std::string map = world->BindingMap(omp_get_max_threads());
    if (world->rank() == 0) {
      std::cout << "data parallel: " << world->size() << " ranks x " << (*trainer)->N()
                << " streams = " << world->size() * (*trainer)->N() << " columns; "
                << reducer->num_buckets() << " gradient buckets\n"
                << map;
    }
  }
  if (!trainer.ok()) return Fail(flags, trainer.status());
  auto results = (*trainer)->Run();
  if (!results.ok()) return Fail(flags, results.status());
  // A rank stopped because another one was signalled exits as if SIGTERM.
  if ((*trainer)->interrupted()) return 128 + (g_stop_signal ? g_stop_signal.load() : SIGTERM);
  return 0;
}

}  // namespace rnnflow
