#include "tools/flags.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnflow {

std::string ParsedFlags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> ParsedFlags::GetInt(const std::string& name, int64_t fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  int64_t v = 0;
  if (!absl::SimpleAtoi(it->second, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " expects an integer; got '", it->second, "'"));
  }
  return v;
}

absl::StatusOr<double> ParsedFlags::GetDouble(const std::string& name, double fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  double v = 0;
  if (!absl::SimpleAtod(it->second, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " expects a number; got '", it->second, "'"));
  }
  return v;
}

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (!absl::StartsWith(a, "--") || a == "--") {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, "; see --help"));
    }
    if (spec->value_name.empty()) {
      out.values[name] = has_value ? value : "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", spec->value_name, ")"));
      }
      value = args[++i];
    }
    out.values[name] = value;
  }
  return out;
}

std::optional<int> ParseCommandLine(const std::string& verb, const std::vector<std::string>& args,
                                    const std::vector<FlagSpec>& specs, const std::string& usage,
                                    size_t positional, const std::vector<std::string>& required,
                                    ParsedFlags* out) {
  auto flags = ParseFlags(args, specs);
  if (!flags.ok()) {
    std::cerr << "rnnflow " << verb << ": " << flags.status().message() << "\n";
    return 2;
  }
  if (flags->help) {
    std::cout << usage;
    return 0;
  }
  bool complete = positional == kAnyPositional || flags->positional.size() == positional;
  for (const std::string& name : required) complete = complete && flags->Has(name);
  if (!complete) {
    std::cerr << usage;
    return 2;
  }
  *out = *std::move(flags);
  return std::nullopt;
}

std::string Usage(const std::string& verb, const std::string& args, const std::string& summary,
                  const std::vector<FlagSpec>& specs) {
  std::string out = absl::StrCat("usage: rnnflow ", verb, " ", args, "\n\n", summary, "\n");
  if (!specs.empty()) absl::StrAppend(&out, "\nflags:\n");
  for (const FlagSpec& s : specs) {
    std::string left = absl::StrCat("--", s.name, s.value_name.empty() ? "" : " ", s.value_name);
    absl::StrAppend(&out, absl::StrFormat("  %-26s %s\n", left, s.help));
  }
  return out;
}

int Fail(const std::string& verb, const absl::Status& status, int code) {
  std::cerr << "rnnflow " << verb << ": " << status.message() << "\n";
  return code;
}

void Warn(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
}

}  // namespace rnnflow
