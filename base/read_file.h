// Reading a whole file into a string: the small files read at once (model
// text, JSON, meta files), beside MappedFile (base/mapped_file.h) for the
// large ones read in place.
#ifndef RNNFLOW_BASE_READ_FILE_H_
#define RNNFLOW_BASE_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace rnnflow {

// The bytes of the file at `path`. Errors name the path and the reason:
// NotFound when it cannot be opened, DataLoss when reading fails.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace rnnflow

#endif  // RNNFLOW_BASE_READ_FILE_H_
