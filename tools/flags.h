// A small command-line parser for the rnnflow verbs: `--name value`,
// `--name=value`, boolean `--name`, and positional arguments. Unknown flags
// are errors, so a typo never silently runs with defaults. Also how a verb
// reports errors and warnings on stderr.
#ifndef RNNFLOW_TOOLS_FLAGS_H_
#define RNNFLOW_TOOLS_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rnnflow {

struct FlagSpec {
  std::string name;
  std::string value_name;  // empty for a boolean flag
  std::string help;
};

struct ParsedFlags {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  bool help = false;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
};

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs);

// The usual start of a verb. Parses `args`; for --help prints `usage` and
// returns 0; for a bad flag, a number of positional arguments other than
// `positional` (kAnyPositional: any) or a missing `required` flag prints the
// error or the usage to stderr and returns 2. Otherwise fills `out` and
// returns nullopt: go on.
inline constexpr size_t kAnyPositional = static_cast<size_t>(-1);
std::optional<int> ParseCommandLine(const std::string& verb, const std::vector<std::string>& args,
                                    const std::vector<FlagSpec>& specs, const std::string& usage,
                                    size_t positional, const std::vector<std::string>& required,
                                    ParsedFlags* out);

// "usage: rnnflow VERB ARGS\n\nSUMMARY\n\nflags:\n  --name VALUE  help\n".
std::string Usage(const std::string& verb, const std::string& args, const std::string& summary,
                  const std::vector<FlagSpec>& specs);

// Prints "rnnflow VERB: message" to stderr and returns `code`.
int Fail(const std::string& verb, const absl::Status& status, int code = 1);

// Prints each line of `warnings` (e.g. from LoadCheckpointFor) to stderr as
// "warning: LINE".
void Warn(const std::vector<std::string>& warnings);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_FLAGS_H_
