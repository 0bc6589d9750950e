#include "tools/check_reference_command.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "rnnflow/conformance/reference_case.h"

namespace rnnflow {
namespace {

constexpr double kDefaultTolerance = 1e-4;

void PrintUsage(std::FILE* out) {
  absl::FPrintF(out,
                "usage: rnnflow check-reference [--tolerance=X] CASE.json [CASE.json...]\n"
                "       rnnflow check-reference [--tolerance=X] --index=INDEX.json\n"
                "\n"
                "Runs PyTorch reference cases (nn.LSTM / nn.GRU / nn.RNN; a CASE.json\n"
                "with CASE.f32.bin and CASE.f64.bin beside it) through rnnflow's fused\n"
                "recurrent ops, built through the op registry. Imports the PyTorch\n"
                "weights, runs forward and backward of L = sum(y^2) + sum(h_n^2)\n"
                "[+ sum(c_n^2)], and prints for every output and gradient the max\n"
                "relative error max|ours - f64| / max|f64| against the float64 values.\n"
                "\n"
                "  --tolerance=X   largest accepted error (default %g)\n"
                "  --index=FILE    run every case listed in an index.json\n"
                "\n"
                "Exit status: 0 if every error is <= the tolerance, 1 otherwise or on\n"
                "any bad input.\n",
                kDefaultTolerance);
}

}  // namespace

int RunCheckReference(const std::vector<std::string>& args) {
  double tolerance = kDefaultTolerance;
  std::vector<std::string> cases;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      PrintUsage(stdout);
      return 0;
    }
    if (absl::StartsWith(arg, "--tolerance=")) {
      if (!absl::SimpleAtod(arg.substr(12), &tolerance) || !(tolerance >= 0)) {
        absl::FPrintF(stderr, "check-reference: bad %s\n", arg);
        return 1;
      }
    } else if (absl::StartsWith(arg, "--index=")) {
      auto listed = ListReferenceCases(arg.substr(8));
      if (!listed.ok()) {
        absl::FPrintF(stderr, "check-reference: %s\n", listed.status().message());
        return 1;
      }
      cases.insert(cases.end(), listed->begin(), listed->end());
    } else if (absl::StartsWith(arg, "-")) {
      absl::FPrintF(stderr, "check-reference: unknown flag %s\n", arg);
      PrintUsage(stderr);
      return 1;
    } else {
      cases.push_back(arg);
    }
  }
  if (cases.empty()) {
    absl::FPrintF(stderr, "check-reference: no case file given\n");
    PrintUsage(stderr);
    return 1;
  }

  bool all_ok = true;
  for (const std::string& path : cases) {
    auto loaded = LoadReferenceCase(path);
    if (!loaded.ok()) {
      absl::FPrintF(stderr, "check-reference: %s\n", loaded.status().message());
      all_ok = false;
      continue;
    }
    auto result = RunReferenceCase(*loaded);
    if (!result.ok()) {
      absl::FPrintF(stderr, "check-reference: %s: %s\n", path, result.status().message());
      all_ok = false;
      continue;
    }
    const bool ok = result->worst <= tolerance;
    absl::PrintF("%s (%s): %s, worst %.3e\n", loaded->name, path, ok ? "PASS" : "FAIL",
                 result->worst);
    for (const ReferenceError& e : result->errors) {
      absl::PrintF("  %-28s max_rel_err %.3e%s\n", e.name, e.max_rel_error,
                   e.max_rel_error <= tolerance ? "" : "  FAIL");
    }
    all_ok = all_ok && ok;
  }
  std::fflush(stdout);
  return all_ok ? 0 : 1;
}

}  // namespace rnnflow
