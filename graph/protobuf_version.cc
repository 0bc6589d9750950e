// Protocol Buffers' version for VersionReport (base/version.h). The library
// has no run-time query, so this is the version of the headers rnnflow was
// built with; the loaded library is of the same release, since protobuf
// changes its SONAME with every one (libprotobuf.so.32 is 3.21.x).
#include <google/protobuf/stubs/common.h>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/version.h"

namespace rnnflow {
namespace {

// GOOGLE_PROTOBUF_VERSION is major * 1000000 + minor * 1000 + patch.
std::string ProtobufVersion() {
  constexpr int v = GOOGLE_PROTOBUF_VERSION;
  return absl::StrCat(v / 1000000, ".", v / 1000 % 1000, ".", v % 1000);
}

RF_REGISTER_LIBRARY_VERSION("protobuf", ProtobufVersion);

}  // namespace
}  // namespace rnnflow
