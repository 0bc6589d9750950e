// oneDNN's version for VersionReport (base/version.h), as the loaded library
// reports it.
#include <oneapi/dnnl/dnnl.h>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/version.h"

namespace rnnflow {
namespace {

std::string DnnlVersion() {
  const dnnl_version_t* v = dnnl_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->patch, " (commit ",
                      v->hash != nullptr ? v->hash : "unknown", ")");
}

RF_REGISTER_LIBRARY_VERSION("oneDNN", DnnlVersion);

}  // namespace
}  // namespace rnnflow
