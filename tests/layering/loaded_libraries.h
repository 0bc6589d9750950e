// For the link-level layering checks (tests/layering/*_only_main.cc): which
// shared libraries this process has mapped, so a program linked with a few
// layers can show that none of the libraries its layers may not use (oneDNN,
// MPI, OpenMP, ...) came in through a dependency.
#ifndef RNNFLOW_TESTS_LAYERING_LOADED_LIBRARIES_H_
#define RNNFLOW_TESTS_LAYERING_LOADED_LIBRARIES_H_

#include <fstream>
#include <string>
#include <vector>

namespace rnnflow {

// The mapped files of /proc/self/maps whose name contains one of `names`
// (e.g. "libdnnl"), each once.
inline std::vector<std::string> LoadedLibraries(const std::vector<std::string>& names) {
  std::vector<std::string> found;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string file = line.substr(slash);
    for (const std::string& name : names) {
      if (file.find(name) != std::string::npos && (found.empty() || found.back() != file)) {
        found.push_back(file);
      }
    }
  }
  return found;
}

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_LAYERING_LOADED_LIBRARIES_H_
