// A streaming CSV reader and time-series preparation (`rnnflow prepare
// series`).
//
// CSV dialect (RFC 4180 plus what real files do): the first record is the
// header; fields are separated by ','; a field may be quoted with '"' (a
// doubled "" inside is one quote; commas and line breaks inside are data);
// records end with LF, CRLF or a lone CR; a final line break is optional;
// blank lines are skipped; a UTF-8 byte order mark at the start is ignored.
// A quote inside an unquoted field is an ordinary character. Errors name
// `FILE:LINE:COLUMN:` (1-based; the column counts UTF-8 characters) of the
// field or character at fault.
//
// Series preparation selects float columns by name and writes, into DIR:
//   series.f32  the values, normalised, with the splits by time (train first,
//               then valid, then test); format in dataset/series_reader.h
//   stats.tsv   header `column<TAB>mean<TAB>std<TAB>missing`, one row per
//               selected column: the mean and std (over the train rows) used
//               for z = (x - mean) / std, so x = z * std + mean; `missing`
//               counts the values the missing-value policy filled or dropped
//   meta.json   a summary: source, columns, rows per split, policy
// Rows are assumed to be in time order (as in the file).
//
// Missing values: an empty field, or one that is not a finite number (e.g.
// "n/a", "NA", "nan"), in a selected column is
//   error        (default) an error: `prices.csv:123:17: column 'close':
//                expected a number; got "n/a"`
//   interpolate  filled linearly between the nearest values before and
//                after it in the same column (by row); leading missing
//                values take the first value, trailing ones the last; a
//                column with no value at all is an error
//   drop         the whole row is left out
// A row with the wrong number of fields is an error under every policy:
// `FILE:LINE:COL: row has 6 fields; the header has 7` (COL: the first extra
// field, or 1 when fields are missing).
#ifndef RNNFLOW_DATASET_CSV_H_
#define RNNFLOW_DATASET_CSV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/internal/data_io.h"

namespace rnnflow {

struct CsvField {
  std::string text;
  int64_t line = 0;  // where the field starts (its opening quote if quoted)
  int64_t column = 0;
  bool quoted = false;
};

class CsvReader {
 public:
  static absl::StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                         int64_t block_bytes = 1 << 20);
  // Reads the next record into `fields`; false at the end of the file.
  absl::StatusOr<bool> Next(std::vector<CsvField>* fields);
  const std::string& path() const { return reader_.path(); }
  int64_t size() const { return reader_.size(); }
  // Line on which the last record started.
  int64_t record_line() const { return record_line_; }

 private:
  CsvReader() = default;
  // The next byte without consuming it; -1 at the end of the file.
  absl::StatusOr<int> Peek();
  void Advance(int c);
  absl::Status Error(int64_t line, int64_t column, const std::string& message) const;

  BlockReader reader_;
  absl::string_view block_;
  size_t pos_ = 0;
  bool eof_ = false;
  int64_t line_ = 1, column_ = 1;
  int64_t record_line_ = 0;
};

enum class MissingPolicy { kError, kInterpolate, kDrop };

// "error", "interpolate" or "drop".
absl::StatusOr<MissingPolicy> ParseMissingPolicy(const std::string& name);
const char* MissingPolicyName(MissingPolicy policy);

struct SeriesPrepareOptions {
  std::vector<std::string> columns;  // names in the header row
  MissingPolicy missing = MissingPolicy::kError;
  double valid_fraction = 0.05;
  double test_fraction = 0.05;
  int64_t block_bytes = 1 << 20;
};

struct SeriesColumnStats {
  std::string name;
  double mean = 0;
  double std = 1;
  int64_t missing = 0;
};

struct SeriesPrepareReport {
  std::string source;
  std::string out_dir;
  int64_t input_bytes = 0;
  int64_t rows = 0;          // written
  int64_t dropped_rows = 0;  // MissingPolicy::kDrop
  int64_t split_rows[3] = {0, 0, 0};
  std::vector<SeriesColumnStats> columns;
  double seconds = 0;
  double mb_per_second = 0;
  int64_t peak_rss_bytes = 0;
};

// Splits by time: train = the first floor(R * (1 - valid - test)) rows,
// valid up to floor(R * (1 - test)), test the rest.
absl::StatusOr<SeriesPrepareReport> PrepareSeries(const std::string& csv_path,
                                                  const std::string& out_dir,
                                                  const SeriesPrepareOptions& options);

// The (mean, std) rows of a prepared directory's stats.tsv.
absl::StatusOr<std::vector<SeriesColumnStats>> ReadSeriesStats(const std::string& dir);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_CSV_H_
