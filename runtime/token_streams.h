// Cuts a token corpus into C contiguous streams (columns) and serves
// truncated-BPTT chunks: T steps of every column at a time, with the targets
// (the next tokens). Stream c covers [c * L, (c + 1) * L) of the corpus,
// L = (size - 1) / C, so consecutive chunks of a column continue each other
// and the carried hidden state stays meaningful.
#ifndef RNNFLOW_RUNTIME_TOKEN_STREAMS_H_
#define RNNFLOW_RUNTIME_TOKEN_STREAMS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace rnnflow {

// A read-only memory-mapped file: the corpus is never copied into memory.
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

class TokenStreams {
 public:
  // Byte-level tokens (vocabulary 256) of a raw text file.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenBytes(const std::string& path,
                                                                 int64_t num_streams,
                                                                 int64_t steps);
  // A contiguous part [begin, end) of a corpus, e.g. a validation split.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenBytesRange(
      const std::string& path, double begin_fraction, double end_fraction,
      int64_t num_streams, int64_t steps);

  int64_t num_streams() const { return num_streams_; }
  int64_t steps() const { return steps_; }
  int64_t stream_length() const { return stream_length_; }
  // Chunks per pass over the corpus.
  int64_t chunks_per_epoch() const { return stream_length_ / steps_; }

  // Fills tokens and targets, both [T, N] time-major, and advances. Returns
  // true when this chunk starts a new pass over the corpus (the caller resets
  // carried states then).
  bool Next(absl::Span<int32_t> tokens, absl::Span<int32_t> targets);

  // Position of each column, for exact resume.
  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }

 private:
  std::unique_ptr<MappedFile> file_;
  const uint8_t* begin_ = nullptr;
  int64_t num_streams_ = 0, steps_ = 0, stream_length_ = 0;
  int64_t position_ = 0;  // offset within every stream
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_TOKEN_STREAMS_H_
