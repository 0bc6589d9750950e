// Cuts a token corpus into C contiguous streams (columns) and serves
// truncated-BPTT chunks: T steps of every column at a time, with the targets
// (the next tokens). Stream c covers [c * L, (c + 1) * L) of the corpus,
// L = (size - 1) / C, so consecutive chunks of a column continue each other
// and the carried hidden state stays meaningful.
//
// Two sources: a raw file whose bytes are the tokens (vocabulary 256), or a
// split of a directory written by `rnnflow prepare text` (dataset/corpus.h),
// whose `.tok` files have the format below.
//
// Token file (`train.tok`, `valid.tok`, `test.tok`), little-endian:
//
//   offset  size  field
//   0       8     magic "RNFTOKEN"
//   8       4     version (kTokenFileVersion = 1)
//   12      4     token width in bytes: 1 (vocabulary <= 256), 2 (<= 65536), 4
//   16      8     token count
//   24      4     vocabulary size (every id is < this)
//   28      4     reserved, 0
//   32            count tokens, unsigned integers of the given width
//
// The file size is exactly 32 + count * width.
#ifndef RNNFLOW_DATASET_TOKEN_STREAMS_H_
#define RNNFLOW_DATASET_TOKEN_STREAMS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/base/mapped_file.h"
#include "rnnflow/dataset/chunk_prefetcher.h"

namespace rnnflow {

inline constexpr char kTokenFileMagic[8] = {'R', 'N', 'F', 'T', 'O', 'K', 'E', 'N'};
inline constexpr uint32_t kTokenFileVersion = 1;

struct TokenFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t token_width;
  uint64_t count;
  uint32_t vocab_size;
  uint32_t reserved;
};
static_assert(sizeof(TokenFileHeader) == 32, "the token file header is 32 bytes");

// A mapped, validated `.tok` file.
class TokenFile {
 public:
  static absl::StatusOr<std::unique_ptr<TokenFile>> Open(const std::string& path);
  int width() const { return width_; }
  int64_t size() const { return count_; }
  int64_t vocab_size() const { return vocab_size_; }
  const uint8_t* data() const { return data_; }
  // Token i (0 <= i < size()).
  uint32_t at(int64_t i) const;
  std::unique_ptr<MappedFile> Release() { return std::move(file_); }

 private:
  std::unique_ptr<MappedFile> file_;
  const uint8_t* data_ = nullptr;
  int width_ = 1;
  int64_t count_ = 0, vocab_size_ = 0;
};

class TokenStreams {
 public:
  // Byte-level tokens (vocabulary 256) of a raw text file.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenBytes(const std::string& path,
                                                                 int64_t num_streams,
                                                                 int64_t steps);
  // A contiguous part [begin, end) of a corpus, e.g. a validation split.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenBytesRange(const std::string& path,
                                                                      double begin_fraction,
                                                                      double end_fraction,
                                                                      int64_t num_streams,
                                                                      int64_t steps);
  // `DIR/SPLIT.tok` of a prepared directory (SPLIT: train, valid or test),
  // any token width.
  static absl::StatusOr<std::unique_ptr<TokenStreams>> OpenPrepared(const std::string& dir,
                                                                    const std::string& split,
                                                                    int64_t num_streams,
                                                                    int64_t steps);

  int64_t num_streams() const { return num_streams_; }
  int64_t steps() const { return steps_; }
  int64_t stream_length() const { return stream_length_; }
  // Every token id is < vocab_size() (256 for raw bytes).
  int64_t vocab_size() const { return vocab_size_; }
  // Chunks per pass over the corpus.
  int64_t chunks_per_epoch() const { return stream_length_ / steps_; }

  // Data parallelism: this worker reads only the global columns
  // [first, first + count) of the num_streams() columns, so C = ranks x N
  // columns tile the corpus the same way whatever the number of ranks.
  // Next() then fills [T, count].
  absl::Status SelectColumns(int64_t first, int64_t count);
  int64_t first_column() const { return first_column_; }
  int64_t local_columns() const { return local_columns_; }

  // Fills tokens and targets, both [T, N] time-major, and advances. Returns
  // true when this chunk starts a new pass over the corpus (the caller resets
  // carried states then).
  bool Next(absl::Span<int32_t> tokens, absl::Span<int32_t> targets);

  // Position of each column, for exact resume.
  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }

  // From now on each Next() starts reading the following chunk on a
  // background thread (dataset/chunk_prefetcher.h); chunks are identical.
  void EnablePrefetch();
  const ChunkPrefetcher* prefetcher() const { return prefetcher_.get(); }

 private:
  static absl::StatusOr<std::unique_ptr<TokenStreams>> Make(std::unique_ptr<MappedFile> file,
                                                            const uint8_t* begin, int64_t count,
                                                            int width, int64_t vocab_size,
                                                            int64_t num_streams, int64_t steps);
  int64_t columns() const { return local_columns_ < 0 ? num_streams_ : local_columns_; }
  void FillAt(int64_t position, absl::Span<int32_t> tokens, absl::Span<int32_t> targets) const;
  template <typename T>
  void Fill(int64_t position, absl::Span<int32_t> tokens, absl::Span<int32_t> targets) const;

  std::unique_ptr<MappedFile> file_;
  const uint8_t* begin_ = nullptr;
  int width_ = 1;
  int64_t vocab_size_ = 256;
  int64_t num_streams_ = 0, steps_ = 0, stream_length_ = 0;
  int64_t first_column_ = 0, local_columns_ = -1;  // -1: all columns
  int64_t position_ = 0;                           // offset within every stream
  // Last: destroyed (its thread joined) before the mapping it reads.
  std::unique_ptr<ChunkPrefetcher> prefetcher_;
};

// Opens the training data the way `rnnflow train --data` names it: a
// directory written by `rnnflow prepare text` (split: train, valid or test),
// or a raw text file whose bytes are the tokens, with the first 90% as
// "train" and the last 10% as "valid" (no "test").
absl::StatusOr<std::unique_ptr<TokenStreams>> OpenTrainingStreams(const std::string& data,
                                                                  const std::string& split,
                                                                  int64_t num_streams,
                                                                  int64_t steps);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_TOKEN_STREAMS_H_
