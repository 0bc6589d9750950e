// Reads `series.f32` written by `rnnflow prepare series` (dataset/csv.h) and
// serves truncated-BPTT chunks with the layout of dataset/token_streams.h: a
// split's rows are cut into C contiguous streams (stream c covers rows
// [c * L, (c + 1) * L), L = (rows - 1) / C), each chunk is T steps of every
// stream, and the targets are the next step's values.
//
// series.f32, little-endian:
//
//   offset  size   field
//   0       8      magic "RNFSERIE"
//   8       4      version (kSeriesFileVersion = 1)
//   12      4      columns F
//   16      8      rows R (all splits)
//   24      8      train rows
//   32      8      valid rows
//   40      8      test rows (train + valid + test = R; in time order)
//   48      8      data offset D (a multiple of 64)
//   56      8      reserved, 0
//   64      16*F   per column: float64 mean, float64 std (the normalisation)
//   D       4*R*F  float32 [R, F], row-major, stored normalised:
//                  z = (x - mean) / std, so x = z * std + mean
//
// mean and std are computed over the train rows only (std is the population
// standard deviation; 1 when a column is constant).
#ifndef RNNFLOW_DATASET_SERIES_READER_H_
#define RNNFLOW_DATASET_SERIES_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {

inline constexpr char kSeriesFileMagic[8] = {'R', 'N', 'F', 'S', 'E', 'R', 'I', 'E'};
inline constexpr uint32_t kSeriesFileVersion = 1;

struct SeriesFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t columns;
  uint64_t rows;
  uint64_t split_rows[3];  // train, valid, test
  uint64_t data_offset;
  uint64_t reserved;
};
static_assert(sizeof(SeriesFileHeader) == 64, "the series file header is 64 bytes");

// A mapped, validated series.f32.
class SeriesFile {
 public:
  static absl::StatusOr<std::unique_ptr<SeriesFile>> Open(const std::string& path);
  int64_t rows() const { return rows_; }
  int64_t columns() const { return columns_; }
  // Rows of split 0 (train), 1 (valid), 2 (test); they follow each other.
  int64_t split_rows(int split) const { return split_rows_[split]; }
  int64_t split_begin(int split) const;
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& stddev() const { return std_; }
  // Normalised value of row r, column c.
  const float* data() const { return data_; }
  float at(int64_t r, int64_t c) const { return data_[r * columns_ + c]; }
  // The value in original units.
  double Denormalize(int64_t column, float z) const { return z * std_[column] + mean_[column]; }

 private:
  friend class SeriesStreams;
  std::unique_ptr<MappedFile> file_;
  const float* data_ = nullptr;
  int64_t rows_ = 0, columns_ = 0;
  int64_t split_rows_[3] = {0, 0, 0};
  std::vector<double> mean_, std_;
};

class SeriesStreams {
 public:
  // `DIR/series.f32`, split train, valid or test.
  static absl::StatusOr<std::unique_ptr<SeriesStreams>> Open(const std::string& dir,
                                                             const std::string& split,
                                                             int64_t num_streams, int64_t steps);

  int64_t num_streams() const { return num_streams_; }
  int64_t steps() const { return steps_; }
  // Data parallelism: Next() then fills only streams [first, first + count)
  // of the num_streams() (its spans hold `count` streams).
  absl::Status SelectColumns(int64_t first, int64_t count);
  int64_t local_streams() const { return local_streams_; }
  int64_t features() const { return file_->columns(); }
  int64_t stream_length() const { return stream_length_; }
  int64_t chunks_per_epoch() const { return stream_length_ / steps_; }
  const SeriesFile& file() const { return *file_; }

  // Fills inputs and targets, both [T, local_streams(), F] time-major (targets: the next
  // row), and advances. Returns true when this chunk starts a new pass.
  bool Next(absl::Span<float> inputs, absl::Span<float> targets);

  int64_t position() const { return position_; }
  void set_position(int64_t p) { position_ = p; }

 private:
  std::unique_ptr<SeriesFile> file_;
  const float* begin_ = nullptr;  // first row of the split
  int64_t num_streams_ = 0, steps_ = 0, stream_length_ = 0;
  int64_t first_stream_ = 0, local_streams_ = 0;
  int64_t position_ = 0;
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_SERIES_READER_H_
