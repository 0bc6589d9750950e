// The command line of the `rnnflow` verbs and of the example programs, one
// parser for all: `--name value`, `--name=value`, boolean `--name`, and
// positional arguments. Unknown flags are errors, so a typo never silently
// runs with defaults. Also how a command reports errors and warnings, and
// how it dispatches on its verb.
//
// The library names its own fields in errors (`TextPrepareOptions::
// valid_fraction`, `training.window`), never a flag: a C++ user never typed
// one. A flag says which field it sets (FlagSpec::field); `--help` lists
// them, and Fail adds the flag to an error that names the field, so the
// user of a command still reads the flag they typed.
//
// Command-line code: built as its own static library for tools/ and
// examples/, not part of the installed rnnflow library.
#ifndef RNNFLOW_TOOLS_FLAGS_H_
#define RNNFLOW_TOOLS_FLAGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rnnflow {

struct FlagSpec {
  std::string name;
  std::string value_name;  // empty for a boolean flag
  std::string help;
  // The option or model field the flag sets, spelled as library errors name
  // it ("TextPrepareOptions::valid_fraction", "training.window"); empty when
  // the flag sets none (it only steers the command).
  std::string field = "";
};

struct ParsedFlags {
  std::string command;          // "rnnflow train", "one_to_many_names generate"
  std::vector<FlagSpec> specs;  // the flags the command knows
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  bool help = false;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
  // The value of --name (or `fallback`) read by `parse`, a library parser
  // such as ParseTextLevel; its error is prefixed with "--name: ".
  template <typename Parse>
  auto GetParsed(const std::string& name, const std::string& fallback, Parse parse) const
      -> decltype(parse(fallback)) {
    auto parsed = parse(Get(name, fallback));
    if (!parsed.ok()) {
      return absl::Status(parsed.status().code(),
                          absl::StrCat("--", name, ": ", parsed.status().message()));
    }
    return parsed;
  }
};

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs);

// The usual start of a command. Parses `args`; for --help prints `usage`
// and returns 0; for a bad flag, a number of positional arguments other
// than `positional` (kAnyPositional: any) or a missing `required` flag
// prints the error or the usage to stderr and returns 2. Otherwise fills
// `out` (its `command` set to `command`) and returns nullopt: go on.
inline constexpr size_t kAnyPositional = static_cast<size_t>(-1);
std::optional<int> ParseCommandLine(const std::string& command,
                                    const std::vector<std::string>& args,
                                    const std::vector<FlagSpec>& specs, const std::string& usage,
                                    size_t positional, const std::vector<std::string>& required,
                                    ParsedFlags* out);

// A whole command whose work returns a Status (the example programs'
// verbs): ParseCommandLine with Usage(command, args_usage, summary, specs),
// then `run`; 0 when it succeeds, else Fail's status 1.
int RunCommand(const std::string& command, const std::vector<std::string>& args,
               const std::string& args_usage, const std::string& summary,
               const std::vector<FlagSpec>& specs, size_t positional,
               const std::vector<std::string>& required,
               const std::function<absl::Status(const ParsedFlags& flags)>& run);

// "usage: COMMAND ARGS\n\nSUMMARY\n\nflags:\n  --name VALUE  help\n", then
// which library field each flag sets, where any does.
std::string Usage(const std::string& command, const std::string& args, const std::string& summary,
                  const std::vector<FlagSpec>& specs);

// `message` with the flag that sets each library field it names: after the
// field's first mention, " (set by --name)" when the flag was given, and
// " (--name sets it)" when not.
std::string NameFlags(absl::string_view message, const ParsedFlags& flags);

// Prints "COMMAND: message" to stderr, the message with NameFlags, and
// returns `code`.
int Fail(const ParsedFlags& flags, const absl::Status& status, int code = 1);

// Prints each line of `warnings` (e.g. from LoadCheckpointFor) to stderr as
// "warning: LINE".
void Warn(const std::vector<std::string>& warnings);

// A program of verbs (`rnnflow train ...`, `one_to_many_names generate
// ...`): each runs with the arguments after its name and returns the exit
// status.
struct Verb {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
  const char* summary;
};

// Runs the verb argv[1] names. Without one, or with --help, prints the
// verbs (to stderr with status 2, to stdout with status 0).
int RunVerbs(const std::string& program, const std::vector<Verb>& verbs, int argc, char** argv);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_FLAGS_H_
