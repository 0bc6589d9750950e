// The argument parser the command-line programs of examples/ share (beside
// builder_main.h): `VERB --key value ... [positional]`.
#ifndef RNNFLOW_EXAMPLES_EXAMPLE_CLI_H_
#define RNNFLOW_EXAMPLES_EXAMPLE_CLI_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rnnflow::examples {

// The flags (`--key value`; a known key listed in `switches` takes no value
// and reads "1") and positional arguments after argv[1], the verb.
struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& key) const { return flags.count(key) > 0; }
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = flags.find(key);
    return it == flags.end() ? fallback : it->second;
  }
  absl::StatusOr<int64_t> Int(const std::string& key, int64_t fallback) const {
    auto it = flags.find(key);
    if (it == flags.end()) return fallback;
    int64_t v = 0;
    if (!absl::SimpleAtoi(it->second, &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", key, " '", it->second, "' is not an integer"));
    }
    return v;
  }
  absl::StatusOr<double> Double(const std::string& key, double fallback) const {
    auto it = flags.find(key);
    if (it == flags.end()) return fallback;
    double v = 0;
    if (!absl::SimpleAtod(it->second, &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", key, " '", it->second, "' is not a number"));
    }
    return v;
  }
};

inline absl::StatusOr<Args> ParseArgs(int argc, char** argv, const std::vector<std::string>& known,
                                      const std::vector<std::string>& switches = {}) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      a.positional.push_back(arg);
      continue;
    }
    const std::string key = arg.substr(2);
    if (std::find(switches.begin(), switches.end(), key) != switches.end()) {
      a.flags[key] = "1";
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
    a.flags[key] = argv[++i];
  }
  return a;
}

}  // namespace rnnflow::examples

#endif  // RNNFLOW_EXAMPLES_EXAMPLE_CLI_H_
