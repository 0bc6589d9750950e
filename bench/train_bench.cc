// Training-throughput benchmark: one model, one (T, N), one thread count.
//
//   train_bench --model bench/models/a.pbtxt --T 50 --N 64 --threads 2 --seconds 3
//
// Builds a Session, fills the graph inputs with random data (valid ids and
// labels), runs warm-up steps, then times full training steps -- Forward,
// Backward and the optimizer's Apply, what torch_rnn_bench.py times -- for at
// least --seconds. The GEMM peak of this machine is measured in the same
// process with the same thread count: dnnl_sgemm 2048^3 f32, median of a few
// runs. Prints one line `RESULT {json}`.
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/cost_model.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/optimizer.h"

namespace rnnflow {
namespace {

struct Flags {
  std::string model;
  std::string config;  // label in the RESULT line; defaults to the model's name
  int64_t T = 0, N = 0;
  int threads = 1;
  double seconds = 3.0;
  int warmup = 3;
  int min_steps = 5;
  bool skip_peak = false;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Busy and total jiffies of the whole machine (first line of /proc/stat).
struct CpuTimes {
  double busy = 0, total = 0;
};
CpuTimes ReadProcStat() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  double v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  f >> cpu;
  for (double& x : v) f >> x;
  // user nice system idle iowait irq softirq steal
  CpuTimes t;
  t.busy = v[0] + v[1] + v[2] + v[5] + v[6];
  t.total = t.busy + v[3] + v[4] + v[7];
  return t;
}

double SelfCpuSeconds() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + 1e-6 * r.ru_utime.tv_usec + r.ru_stime.tv_sec +
         1e-6 * r.ru_stime.tv_usec;
}

// GFLOP/s of a row-major f32 2048^3 dnnl_sgemm: median of `runs` after one
// warm-up call (which also JIT-compiles the kernels).
absl::StatusOr<double> MeasureGemmPeak(int runs) {
  const dnnl_dim_t n = 2048;
  std::vector<float> a(n * n), b(n * n), c(n * n, 0.f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  std::vector<double> gflops;
  for (int i = 0; i <= runs; ++i) {
    const double t0 = Now();
    const dnnl_status_t st =
        dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    const double dt = Now() - t0;
    if (st != dnnl_success) {
      return absl::InternalError(absl::StrCat("dnnl_sgemm failed with status ", st));
    }
    if (i > 0) gflops.push_back(2.0 * n * n * n / dt * 1e-9);
  }
  return Median(gflops);
}

// Random graph inputs: floats N(0, 1) (like torch.randn); INT32 inputs
// get ids valid for their consumer (Embedding vocab, or the logits width of
// a SoftmaxCrossEntropy).
absl::Status FillInputs(const Graph& graph, Session& session, uint64_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (int id : graph.graph_inputs()) {
    const TensorInfo& info = graph.tensor(id);
    RF_ASSIGN_OR_RETURN(Tensor t, session.input(info.name));
    if (t.dtype() == FLOAT32) {
      float* p = t.f32();
      for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = normal(rng);
      continue;
    }
    // Find the range of valid ids from the consumers.
    int64_t range = 0;
    for (const NodeInfo& node : graph.nodes()) {
      for (int k = 0; k < node.num_declared_inputs; ++k) {
        if (node.inputs[k] != id) continue;
        const std::string& op = node.def->op();
        if (op == "Embedding") {
          range = node.def->attr().at("vocab").i();
        } else if (op == "SoftmaxCrossEntropy") {
          const Tensor logits = session.value(node.inputs[0]);
          range = logits.dim(-1);
        }
      }
    }
    if (range <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot tell the valid range of INT32 input '", info.name,
                       "' (not read by an Embedding or a SoftmaxCrossEntropy)"));
    }
    std::uniform_int_distribution<int32_t> ids(0, static_cast<int32_t>(range - 1));
    int32_t* p = t.i32();
    for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = ids(rng);
  }
  return absl::OkStatus();
}

absl::Status Run(const Flags& flags) {
  omp_set_num_threads(flags.threads);  // before any primitive is created

  RF_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModelFile(flags.model));
  RF_ASSIGN_OR_RETURN(Graph graph, Graph::Build(loaded.model, loaded.source));
  const TrainingDef& tr = graph.model().training();
  const int64_t T = flags.T > 0 ? flags.T : tr.truncation_steps();
  const int64_t N = flags.N > 0 ? flags.N : tr.streams_per_worker();
  if (T <= 0 || N <= 0) return absl::InvalidArgumentError("--T and --N must be > 0");

  double gemm_peak = 0.0;
  if (!flags.skip_peak) {
    RF_ASSIGN_OR_RETURN(gemm_peak, MeasureGemmPeak(5));
  }

  SessionOptions so;
  so.bindings = {{"T", T}, {"N", N}};
  so.training = true;
  so.seed = tr.seed() ? tr.seed() : 1;
  RF_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(graph, so));
  std::vector<Shape> shapes;
  for (const ParamInfo& p : graph.params()) shapes.push_back(p.shape);
  RF_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> optimizer, Optimizer::Create(tr, shapes));
  RF_RETURN_IF_ERROR(FillInputs(graph, *session, 1234));
  RunInfo run;  // training passes: a model's Dropout nodes run as in training
  run.training = true;
  session->set_run_info(run);
  RF_ASSIGN_OR_RETURN(FlopCount flops, CountFlops(graph, so.bindings));

  // Like the PyTorch script: one fixed batch, zero initial states (CarryStates
  // is never called, so carried states stay zero).
  double fwd = 0, bwd = 0, opt = 0;
  auto step = [&]() -> absl::Status {
    const double t0 = Now();
    RF_RETURN_IF_ERROR(session->Forward());
    const double t1 = Now();
    RF_RETURN_IF_ERROR(session->Backward());
    const double t2 = Now();
    RF_RETURN_IF_ERROR(optimizer->Apply(session->params(), session->param_grads(),
                                        optimizer->LearningRate(1 << 30)));
    const double t3 = Now();
    fwd = t1 - t0;
    bwd = t2 - t1;
    opt = t3 - t2;
    return absl::OkStatus();
  };

  for (int i = 0; i < flags.warmup; ++i) RF_RETURN_IF_ERROR(step());
  const float first_loss = session->loss();

  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::vector<double> times, fwds, bwds, opts, others;
  const CpuTimes s0 = ReadProcStat();
  const double cpu0 = SelfCpuSeconds();
  const double start = Now();
  while (static_cast<int>(times.size()) < flags.min_steps || Now() - start < flags.seconds) {
    const CpuTimes sa = ReadProcStat();
    const double ca = SelfCpuSeconds();
    const double t0 = Now();
    RF_RETURN_IF_ERROR(step());
    const double dt = Now() - t0;
    const CpuTimes sb = ReadProcStat();
    const double cb = SelfCpuSeconds();
    times.push_back(dt);
    fwds.push_back(fwd);
    bwds.push_back(bwd);
    opts.push_back(opt);
    others.push_back(std::max(0.0, (sb.busy - sa.busy) / hz - (cb - ca)) / dt);
  }
  const double wall = Now() - start;
  const CpuTimes s1 = ReadProcStat();
  const double cpu = SelfCpuSeconds() - cpu0;
  const float loss = session->loss();
  if (!std::isfinite(loss)) return absl::InternalError("the loss is not finite");

  const double step_s = Median(times);
  // Steps during which other processes kept < 0.25 CPUs busy (the same
  // threshold as torch_rnn_bench.py's step_s_quiet_median).
  std::vector<double> quiet;
  for (size_t i = 0; i < times.size(); ++i) {
    if (others[i] < 0.25) quiet.push_back(times[i]);
  }
  const double gflop = flops.training_step() * 1e-9;
  const double gflops = gflop / step_s;
  std::string json = absl::StrFormat(
      "{\"config\": \"%s\", \"model\": \"%s\", \"T\": %d, \"N\": %d, \"threads\": %d, "
      "\"omp_max_threads\": %d, \"steps\": %d, \"step_ms\": %.3f, \"step_ms_min\": %.3f, "
      "\"step_ms_mean\": %.3f, \"fwd_ms\": %.3f, \"bwd_ms\": %.3f, \"opt_ms\": %.3f, "
      "\"tokens_per_s\": %.1f, \"samples_per_s\": %.2f, \"gflop_per_step\": %.4f, "
      "\"gflops\": %.1f, \"gemm_peak_gflops\": %.1f, \"pct_of_gemm_peak\": %.1f, "
      "\"cpu_util\": %.2f, \"others_busy_cpus\": %.2f, \"others_busy_step_median\": %.2f, "
      "\"n_quiet_steps\": %d, \"step_ms_quiet_median\": %.3f, "
      "\"loss_first\": %.6f, \"loss_last\": %.6f, \"param_count\": %d}",
      flags.config.empty() ? graph.model().name() : flags.config, flags.model, T, N, flags.threads,
      omp_get_max_threads(), static_cast<int>(times.size()), step_s * 1e3,
      *std::min_element(times.begin(), times.end()) * 1e3, wall / times.size() * 1e3,
      Median(fwds) * 1e3, Median(bwds) * 1e3, Median(opts) * 1e3, T * N / step_s, N / step_s, gflop,
      gflops, gemm_peak, gemm_peak > 0 ? 100.0 * gflops / gemm_peak : 0.0, cpu / wall,
      std::max(0.0, (s1.busy - s0.busy) / hz - cpu) / wall, Median(others),
      static_cast<int>(quiet.size()), quiet.empty() ? 0.0 : Median(quiet) * 1e3, first_loss, loss,
      graph.NumParameters());
  std::printf("RESULT %s\n", json.c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

int Usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: train_bench --model FILE [--T n] [--N n] [--threads n] "
               "[--seconds s] [--warmup n] [--min-steps n] [--config label] [--no-peak]\n",
               msg);
  return 2;
}

}  // namespace
}  // namespace rnnflow

int main(int argc, char** argv) {
  using rnnflow::Usage;
  rnnflow::Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-peak") {
      flags.skip_peak = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(("missing value for " + arg).c_str());
    const char* v = argv[++i];
    if (arg == "--model") {
      flags.model = v;
    } else if (arg == "--config") {
      flags.config = v;
    } else if (arg == "--T") {
      flags.T = std::atoll(v);
    } else if (arg == "--N") {
      flags.N = std::atoll(v);
    } else if (arg == "--threads") {
      flags.threads = std::atoi(v);
    } else if (arg == "--seconds") {
      flags.seconds = std::atof(v);
    } else if (arg == "--warmup") {
      flags.warmup = std::atoi(v);
    } else if (arg == "--min-steps") {
      flags.min_steps = std::atoi(v);
    } else {
      return Usage(("unknown flag " + arg).c_str());
    }
  }
  if (flags.model.empty()) return Usage("--model is required");
  if (flags.threads < 1) return Usage("--threads must be >= 1");
  const absl::Status st = rnnflow::Run(flags);
  if (!st.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}
