#include "rnnflow/base/version.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

// CMakeLists.txt defines both for this file only, so that a new commit
// recompiles nothing else.
#ifndef RNNFLOW_VERSION
#error "RNNFLOW_VERSION must be defined by the build"
#endif
#ifndef RNNFLOW_GIT_COMMIT
#error "RNNFLOW_GIT_COMMIT must be defined by the build"
#endif

namespace rnnflow {
namespace {

struct Registered {
  const char* name;
  std::string (*version)();
};

std::vector<Registered>& Registry() {
  static auto* registry = new std::vector<Registered>;
  return *registry;
}

}  // namespace

const char* Version() { return RNNFLOW_VERSION; }

const char* GitCommit() { return RNNFLOW_GIT_COMMIT; }

LibraryVersionRegistrar::LibraryVersionRegistrar(const char* name, std::string (*version)()) {
  Registry().push_back({name, version});
}

std::vector<LibraryVersion> LibraryVersions() {
  std::vector<LibraryVersion> versions;
  for (const Registered& r : Registry()) versions.push_back({r.name, r.version()});
  std::sort(versions.begin(), versions.end(),
            [](const LibraryVersion& a, const LibraryVersion& b) { return a.name < b.name; });
  return versions;
}

std::string VersionReport() {
  std::string text = absl::StrCat("rnnflow ", Version(), " (commit ", GitCommit(), ")\n");
  for (const LibraryVersion& v : LibraryVersions()) {
    absl::StrAppend(&text, "  ", v.name, ": ", v.version, "\n");
  }
  return text;
}

}  // namespace rnnflow
