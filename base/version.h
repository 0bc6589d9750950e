// What this build of rnnflow is: its version, the commit it was built from and
// the versions of the libraries it runs on, for `rnnflow --version`, logs and
// bug reports.
#ifndef RNNFLOW_BASE_VERSION_H_
#define RNNFLOW_BASE_VERSION_H_

#include <string>
#include <utility>
#include <vector>

#include "rnnflow/base/status_macros.h"

namespace rnnflow {

// "0.2.0": the project version of CMakeLists.txt.
const char* Version();

// The git commit the build was configured from (12 hex digits), or "unknown"
// for a build outside a git checkout.
const char* GitCommit();

// A library rnnflow runs on and its version, e.g. {"oneDNN", "2.6.3 ..."}.
struct LibraryVersion {
  std::string name;
  std::string version;
};

// The libraries registered with RF_REGISTER_LIBRARY_VERSION, sorted by name.
// Each is reported by the layer that links it (oneDNN by ops/, MPI by dist/,
// protobuf by graph/), queried at run time where the library allows, so the
// text names the library actually loaded rather than the one compiled against.
std::vector<LibraryVersion> LibraryVersions();

// One line for rnnflow ("rnnflow 0.2.0 (commit 1a2b3c4d5e6f)"), then one per
// library ("  oneDNN: 2.6.3 ..."), each ending in a newline.
std::string VersionReport();

struct LibraryVersionRegistrar {
  LibraryVersionRegistrar(const char* name, std::string (*version)());
};

// RF_REGISTER_LIBRARY_VERSION("oneDNN", DnnlVersion); at namespace scope in a
// .cc of the layer that links the library; `version` is called on each query.
#define RF_REGISTER_LIBRARY_VERSION(name, version)                                              \
  static ::rnnflow::LibraryVersionRegistrar RF_CONCAT_(rf_library_version_reg_, __LINE__)(name, \
                                                                                          version)

}  // namespace rnnflow

#endif  // RNNFLOW_BASE_VERSION_H_
