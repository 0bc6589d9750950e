#include "tools/flags.h"

#include <iostream>

#include "absl/strings/ascii.h"
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
  out.specs = specs;
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

std::optional<int> ParseCommandLine(const std::string& command,
                                    const std::vector<std::string>& args,
                                    const std::vector<FlagSpec>& specs, const std::string& usage,
                                    size_t positional, const std::vector<std::string>& required,
                                    ParsedFlags* out) {
  auto flags = ParseFlags(args, specs);
  if (!flags.ok()) {
    std::cerr << command << ": " << flags.status().message() << "\n";
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
  out->command = command;
  return std::nullopt;
}

int RunCommand(const std::string& command, const std::vector<std::string>& args,
               const std::string& args_usage, const std::string& summary,
               const std::vector<FlagSpec>& specs, size_t positional,
               const std::vector<std::string>& required,
               const std::function<absl::Status(const ParsedFlags& flags)>& run) {
  ParsedFlags flags;
  if (auto exit = ParseCommandLine(command, args, specs, Usage(command, args_usage, summary, specs),
                                   positional, required, &flags)) {
    return *exit;
  }
  const absl::Status status = run(flags);
  return status.ok() ? 0 : Fail(flags, status);
}

std::string Usage(const std::string& command, const std::string& args, const std::string& summary,
                  const std::vector<FlagSpec>& specs) {
  std::string out = absl::StrCat("usage: ", command, " ", args, "\n\n", summary, "\n");
  if (!specs.empty()) absl::StrAppend(&out, "\nflags:\n");
  bool any_field = false;
  for (const FlagSpec& s : specs) {
    std::string left = absl::StrCat("--", s.name, s.value_name.empty() ? "" : " ", s.value_name);
    absl::StrAppend(&out, absl::StrFormat("  %-26s %s\n", left, s.help));
    any_field = any_field || !s.field.empty();
  }
  if (any_field) {
    absl::StrAppend(&out, "\nthe library fields they set (errors name the field):\n");
    for (const FlagSpec& s : specs) {
      if (s.field.empty()) continue;
      absl::StrAppend(&out, absl::StrFormat("  %-26s %s\n", absl::StrCat("--", s.name), s.field));
    }
  }
  return out;
}

namespace {

// Whether `text` has `word` at `pos`, not inside a longer name
// ("TrainerOptions::window" is not in "TrainerOptions::window_rows").
bool IsWordAt(absl::string_view text, size_t pos, absl::string_view word) {
  auto name_char = [](char c) { return absl::ascii_isalnum(c) || c == '_'; };
  const size_t end = pos + word.size();
  return (pos == 0 || !name_char(text[pos - 1])) && (end == text.size() || !name_char(text[end]));
}

}  // namespace

std::string NameFlags(absl::string_view message, const ParsedFlags& flags) {
  std::string out(message);
  for (const FlagSpec& s : flags.specs) {
    if (s.field.empty()) continue;
    size_t pos = out.find(s.field);
    while (pos != std::string::npos && !IsWordAt(out, pos, s.field)) {
      pos = out.find(s.field, pos + 1);
    }
    if (pos == std::string::npos) continue;
    const std::string note = flags.Has(s.name) ? absl::StrCat(" (set by --", s.name, ")")
                                               : absl::StrCat(" (--", s.name, " sets it)");
    out.insert(pos + s.field.size(), note);
  }
  return out;
}

int Fail(const ParsedFlags& flags, const absl::Status& status, int code) {
  std::cerr << flags.command << ": " << NameFlags(status.message(), flags) << "\n";
  return code;
}

void Warn(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
}

int RunVerbs(const std::string& program, const std::vector<Verb>& verbs, int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  for (const Verb& v : verbs) {
    if (verb == v.name) return v.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  const bool help = verb == "--help" || verb == "-h" || verb == "help";
  std::ostream& out = help ? std::cout : std::cerr;
  if (!help && !verb.empty()) out << program << ": unknown verb '" << verb << "'\n";
  out << "usage: " << program << " VERB [ARGS...]   (" << program
      << " VERB --help for details)\n\nverbs:\n";
  for (const Verb& v : verbs) out << absl::StrFormat("  %-17s %s\n", v.name, v.summary);
  return help ? 0 : 2;
}

}  // namespace rnnflow
