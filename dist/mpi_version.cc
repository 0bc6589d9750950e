// The MPI library's version for VersionReport (base/version.h), as the loaded
// library reports it (MPI_Get_library_version needs no MPI_Init).
#include <mpi.h>

#include <string>

#include "rnnflow/base/version.h"

namespace rnnflow {
namespace {

// Open MPI's text goes on with package, ident and date after a comma:
// "Open MPI v4.1.4, package: Debian OpenMPI, ...". Only its first part.
std::string MpiVersion() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown";
  const std::string version(text, length);
  return version.substr(0, version.find_first_of(",\n"));
}

RF_REGISTER_LIBRARY_VERSION("MPI", MpiVersion);

}  // namespace
}  // namespace rnnflow
