// Streaming file helpers shared by the data preparation code
// (dataset/corpus.*, dataset/csv.*): block-wise reading, buffered writing to
// a temporary name that is renamed into place on success, peak RSS, and
// line:column positions of byte offsets for error messages.
#ifndef RNNFLOW_DATASET_INTERNAL_DATA_IO_H_
#define RNNFLOW_DATASET_INTERNAL_DATA_IO_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rnnflow {

// Reads a file front to back in blocks; never holds more than one block.
class BlockReader {
 public:
  BlockReader() = default;
  ~BlockReader();
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  // Opens a regular file; size() is known afterwards.
  absl::Status Open(const std::string& path, int64_t block_bytes = 1 << 20);
  // The next block (empty at the end of the file). Valid until the next call.
  absl::StatusOr<absl::string_view> Next();
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
  std::vector<char> buffer_;
};

// Buffered writer to `path + ".tmp"`; Commit() flushes, optionally patches a
// header at offset 0, closes and renames onto `path`. Destroying an
// uncommitted writer removes the temporary file.
class BlockWriter {
 public:
  BlockWriter() = default;
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  absl::Status Open(const std::string& path, int64_t buffer_bytes = 1 << 20);
  absl::Status Write(const void* data, size_t n) {
    if (n <= buffer_.size() - used_) {
      std::memcpy(buffer_.data() + used_, data, n);
      used_ += n;
      return absl::OkStatus();
    }
    return WriteSlow(data, n);
  }
  absl::Status Write(absl::string_view s) { return Write(s.data(), s.size()); }
  // Flushes; `header` (if not empty) overwrites the file's first bytes.
  absl::Status Commit(absl::string_view header = {});
  int64_t bytes_written() const { return written_ + static_cast<int64_t>(used_); }
  const std::string& path() const { return path_; }

 private:
  absl::Status WriteSlow(const void* data, size_t n);
  absl::Status WriteAll(const char* p, size_t n);
  absl::Status Flush();

  std::string path_, tmp_path_;
  int fd_ = -1;
  std::vector<char> buffer_;
  size_t used_ = 0;
  int64_t written_ = 0;
};

// Writes a small text file atomically (through BlockWriter).
absl::Status WriteSmallFile(const std::string& path, absl::string_view contents);

// Creates `dir` and its parents if needed.
absl::Status MakeDirectories(const std::string& dir);

// floor(n * fraction), robust to rounding in the fraction (1 - 0.05 - 0.05
// is 0.8999999999999999): the boundary between splits of n items.
int64_t SplitPoint(int64_t n, double fraction);

// The valid_fraction and test_fraction of a Prepare* call: both >= 0, sum
// below 1. The error names them as fields of `options` (the options
// struct's name, e.g. "TextPrepareOptions").
absl::Status CheckSplitFractions(absl::string_view options, double valid, double test);

// The process's peak resident set size so far (getrusage), in bytes.
int64_t PeakRssBytes();

// The 1-based line and column (in UTF-8 characters) of byte `offset` of a
// file, found by reading it again from the start: error paths only.
struct TextPosition {
  int64_t line = 1;
  int64_t column = 1;
};
absl::StatusOr<TextPosition> LocateOffset(const std::string& path, int64_t offset);

// A JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_INTERNAL_DATA_IO_H_
