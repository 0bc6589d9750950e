// Cost of variable lengths and resets in the fused recurrent kernels: one
// LSTM node (ops/rnn_kernels.cc) built through the registry, forward +
// backward timed (median of --reps after 2 warm-ups) in five modes:
//
//   fast      no lengths input: one primitive pair per layer
//   len=T     lengths connected, every sequence T long (one piece)
//   len~U     lengths uniform in [T/2, T] (up to N segments)
//   len~1..T  lengths uniform in [1, T]
//   resets    all lengths T, one reset per column every ~T steps
//
// Prints one line per mode: median ms, ms relative to fast, the fraction of
// the batch's steps that are real (sum len / (T N)), and the kernel's own
// memory (workspaces, scratch, buffers; internal_bytes).
//
//   rnn_lengths_bench [--T 100] [--N 32] [--C 256] [--H 256] [--layers 1]
//                     [--bidirectional] [--bf16] [--reps 10] [--threads 2]
//
// --bf16 computes in bfloat16 (attr precision: "bf16") in every mode.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "rnnflow/conformance/reference_case.h"
#include "rnnflow/runtime/kernel.h"

namespace rnnflow {
namespace {

struct Args {
  int64_t T = 100, N = 32, C = 256, H = 256, layers = 1, reps = 10, threads = 2;
  bool bidirectional = false;
  bool bf16 = false;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Run(const Args& a) {
  omp_set_num_threads(static_cast<int>(a.threads));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  const char* const modes[] = {"fast", "len=T", "len~U", "len~1..T", "resets"};
  double fast_ms = 0;
  std::printf("LSTM T=%ld N=%ld C=%ld H=%ld layers=%ld %s %s threads=%ld\n", a.T, a.N, a.C, a.H,
              a.layers, a.bidirectional ? "bidirectional" : "forward", a.bf16 ? "bf16" : "f32",
              a.threads);
  std::printf("%-9s %9s %8s %7s %10s\n", "mode", "fwd+bwd", "vs fast", "real", "kernel MB");
  for (int mode = 0; mode < 5; ++mode) {
    RecurrentNodeSpec spec;
    spec.op = "LSTM";
    spec.hidden = a.H;
    spec.layers = a.layers;
    spec.bidirectional = a.bidirectional;
    spec.T = a.T;
    spec.N = a.N;
    spec.C = a.C;
    spec.with_lengths = mode >= 1 && mode <= 3;
    spec.with_resets = mode == 4;
    spec.bf16 = a.bf16;
    auto built = BuildRecurrentNode(spec);
    if (!built.ok()) {
      std::fprintf(stderr, "%s\n", std::string(built.status().message()).c_str());
      return 1;
    }
    RecurrentNode& node = *built;
    const size_t ni = node.input_shapes.size();
    std::vector<std::vector<float>> in(ni), grad(ni), out, dout;
    std::vector<int32_t> lengths(a.N, static_cast<int32_t>(a.T));
    if (mode == 2) {
      for (auto& l : lengths) l = static_cast<int32_t>(a.T / 2 + rng() % (a.T - a.T / 2 + 1));
    } else if (mode == 3) {
      for (auto& l : lengths) l = static_cast<int32_t>(1 + rng() % a.T);
    }
    double real = 0;
    for (int32_t l : lengths) real += static_cast<double>(l) / (a.T * a.N);
    KernelContext ctx;
    for (size_t i = 0; i < ni; ++i) {
      void* data = nullptr;
      if (node.input_present[i]) {
        in[i].resize(NumElements(node.input_shapes[i]));
        grad[i].assign(in[i].size(), 0.f);
        for (float& v : in[i]) v = 0.1f * uni(rng);
        data = node.input_dtypes[i] == INT32 ? static_cast<void*>(lengths.data())
                                             : static_cast<void*>(in[i].data());
      }
      ctx.inputs.emplace_back(node.input_dtypes[i], node.input_shapes[i], data);
    }
    if (mode == 4) {  // the resets input is the last declared one
      std::vector<float>& r = in[node.num_declared_inputs - 1];
      std::fill(r.begin(), r.end(), 0.f);
      for (int64_t n = 0; n < a.N; ++n) r[(rng() % a.T) * a.N + n] = 1.f;
    }
    for (const Shape& s : node.output_shapes) {
      out.emplace_back(NumElements(s), 0.f);
      dout.emplace_back(NumElements(s), 0.f);
      for (float& v : dout.back()) v = uni(rng);
    }
    for (size_t o = 0; o < out.size(); ++o) {
      ctx.outputs.emplace_back(FLOAT32, node.output_shapes[o], out[o].data());
      ctx.output_grads.emplace_back(FLOAT32, node.output_shapes[o], dout[o].data());
    }
    for (size_t i = 0; i < ni; ++i) {
      const bool g = node.input_present[i] && node.input_dtypes[i] == FLOAT32 &&
                     static_cast<int>(i) != node.num_declared_inputs - 1;
      ctx.input_grads.emplace_back(FLOAT32, node.input_shapes[i], g ? grad[i].data() : nullptr);
    }
    std::vector<double> ms;
    for (int64_t r = 0; r < a.reps + 2; ++r) {
      const auto start = std::chrono::steady_clock::now();
      absl::Status s = node.kernel->Forward(ctx);
      if (s.ok()) s = node.kernel->Backward(ctx);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
        return 1;
      }
      const double t =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (r >= 2) ms.push_back(t);
    }
    const double med = Median(ms);
    if (mode == 0) fast_ms = med;
    std::printf("%-9s %7.2fms %7.2fx %6.0f%% %10.1f\n", modes[mode], med, med / fast_ms, 100 * real,
                node.kernel->internal_bytes() / 1e6);
  }
  return 0;
}

}  // namespace
}  // namespace rnnflow

int main(int argc, char** argv) {
  rnnflow::Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto next = [&]() -> int64_t { return i + 1 < argc ? std::atoll(argv[++i]) : 0; };
    if (f == "--T")
      a.T = next();
    else if (f == "--N")
      a.N = next();
    else if (f == "--C")
      a.C = next();
    else if (f == "--H")
      a.H = next();
    else if (f == "--layers")
      a.layers = next();
    else if (f == "--reps")
      a.reps = next();
    else if (f == "--threads")
      a.threads = next();
    else if (f == "--bidirectional")
      a.bidirectional = true;
    else if (f == "--bf16")
      a.bf16 = true;
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (a.T < 2 || a.N < 1 || a.C < 1 || a.H < 1 || a.layers < 1 || a.reps < 1) {
    std::fprintf(stderr, "need T >= 2 and positive sizes\n");
    return 2;
  }
  return rnnflow::Run(a);
}
