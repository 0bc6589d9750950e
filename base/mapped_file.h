// A read-only memory-mapped file: corpora and checkpoints are read through the
// page cache and never copied into memory.
#ifndef RNNFLOW_BASE_MAPPED_FILE_H_
#define RNNFLOW_BASE_MAPPED_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace rnnflow {

// Unmapped when destroyed. An empty file maps to data() == nullptr, size() 0.
class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  const uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_BASE_MAPPED_FILE_H_
