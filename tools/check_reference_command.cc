#include "tools/check_reference_command.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "rnnflow/conformance/reference_case.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

constexpr double kDefaultTolerance = 1e-4;

}  // namespace

int RunCheckReference(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"tolerance", "X", absl::StrFormat("largest accepted error (default %g)", kDefaultTolerance)},
      {"index", "FILE", "run every case listed in an index.json"},
  };
  const std::string usage = Usage(
      "rnnflow check-reference", "[--tolerance=X] CASE.json [CASE.json...] | --index=INDEX.json",
      "Runs PyTorch reference cases (nn.LSTM / nn.GRU / nn.RNN; a CASE.json\n"
      "with CASE.f32.bin and CASE.f64.bin beside it) through rnnflow's fused\n"
      "recurrent ops, built through the op registry. Imports the PyTorch\n"
      "weights, runs forward and backward of L = sum(y^2) + sum(h_n^2)\n"
      "[+ sum(c_n^2)], and prints for every output and gradient the max\n"
      "relative error max|ours - f64| / max|f64| against the float64 values.\n"
      "\n"
      "Exit status: 0 if every error is <= the tolerance, 1 otherwise or on\n"
      "any bad input.",
      specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow check-reference", args, specs, usage, kAnyPositional,
                                   {}, &flags)) {
    return *exit;
  }
  auto tolerance = flags.GetDouble("tolerance", kDefaultTolerance);
  if (!tolerance.ok()) return Fail(flags, tolerance.status(), 2);
  if (!(*tolerance >= 0)) {
    return Fail(flags, absl::InvalidArgumentError("--tolerance must be >= 0"), 2);
  }
  std::vector<std::string> cases = flags.positional;
  if (flags.Has("index")) {
    auto listed = ListReferenceCases(flags.Get("index"));
    if (!listed.ok()) return Fail(flags, listed.status());
    cases.insert(cases.end(), listed->begin(), listed->end());
  }
  if (cases.empty()) {
    std::cerr << usage;
    return 2;
  }

  bool all_ok = true;
  for (const std::string& path : cases) {
    auto loaded = LoadReferenceCase(path);
    if (!loaded.ok()) {
      absl::FPrintF(stderr, "%s: %s\n", flags.command, loaded.status().message());
      all_ok = false;
      continue;
    }
    auto result = RunReferenceCase(*loaded);
    if (!result.ok()) {
      absl::FPrintF(stderr, "%s: %s: %s\n", flags.command, path, result.status().message());
      all_ok = false;
      continue;
    }
    const bool ok = result->worst <= *tolerance;
    absl::PrintF("%s (%s): %s, worst %.3e\n", loaded->name, path, ok ? "PASS" : "FAIL",
                 result->worst);
    for (const ReferenceError& e : result->errors) {
      absl::PrintF("  %-28s max_rel_err %.3e%s\n", e.name, e.max_rel_error,
                   e.max_rel_error <= *tolerance ? "" : "  FAIL");
    }
    all_ok = all_ok && ok;
  }
  std::fflush(stdout);
  return all_ok ? 0 : 1;
}

}  // namespace rnnflow
