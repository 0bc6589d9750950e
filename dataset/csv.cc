#include "rnnflow/dataset/csv.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/internal/data_io.h"
#include "rnnflow/dataset/series_reader.h"

namespace rnnflow {

// --- CsvReader ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path,
                                                           int64_t block_bytes) {
  std::unique_ptr<CsvReader> r(new CsvReader());
  RF_RETURN_IF_ERROR(r->reader_.Open(path, block_bytes));
  RF_ASSIGN_OR_RETURN(r->block_, r->reader_.Next());
  r->eof_ = r->block_.empty();
  // A UTF-8 byte order mark (the first block may be shorter than it).
  char head[3] = {0, 0, 0};
  std::ifstream(path, std::ios::binary).read(head, 3);
  if (std::memcmp(head, "\xEF\xBB\xBF", 3) == 0) {
    for (int i = 0; i < 3; ++i) {
      RF_ASSIGN_OR_RETURN(int c, r->Peek());
      if (c < 0) break;
      ++r->pos_;
    }
  }
  return r;
}

absl::StatusOr<int> CsvReader::Peek() {
  if (pos_ < block_.size()) return static_cast<unsigned char>(block_[pos_]);
  if (eof_) return -1;
  RF_ASSIGN_OR_RETURN(block_, reader_.Next());
  pos_ = 0;
  if (block_.empty()) {
    eof_ = true;
    return -1;
  }
  return static_cast<unsigned char>(block_[0]);
}

void CsvReader::Advance(int c) {
  ++pos_;
  if (c == '\n') {
    ++line_;
    column_ = 1;
  } else if ((c & 0xC0) != 0x80) {
    ++column_;
  }
}

absl::Status CsvReader::Error(int64_t line, int64_t column, const std::string& message) const {
  return absl::InvalidArgumentError(absl::StrCat(path(), ":", line, ":", column, ": ", message));
}

absl::StatusOr<bool> CsvReader::Next(std::vector<CsvField>* fields) {
  fields->clear();
  // A line end: LF, CRLF or a lone CR.
  auto end_line = [&](int c) -> absl::Status {
    Advance(c);
    if (c == '\r') {
      RF_ASSIGN_OR_RETURN(int next, Peek());
      if (next == '\n') {
        Advance(next);
      } else {
        ++line_;
        column_ = 1;
      }
    }
    return absl::OkStatus();
  };
  for (;;) {  // blank lines
    RF_ASSIGN_OR_RETURN(int c, Peek());
    if (c == -1) return false;
    if (c != '\n' && c != '\r') break;
    RF_RETURN_IF_ERROR(end_line(c));
  }
  record_line_ = line_;
  for (;;) {
    CsvField f;
    f.line = line_;
    f.column = column_;
    RF_ASSIGN_OR_RETURN(int c, Peek());
    if (c == '"') {
      f.quoted = true;
      Advance(c);
      for (;;) {
        RF_ASSIGN_OR_RETURN(c, Peek());
        if (c == -1) {
          return Error(f.line, f.column,
                       "the quoted field is never closed (the file ends "
                       "inside it)");
        }
        Advance(c);
        if (c == '"') {
          RF_ASSIGN_OR_RETURN(int next, Peek());
          if (next != '"') break;
          Advance(next);
        }
        f.text += static_cast<char>(c);
      }
      RF_ASSIGN_OR_RETURN(c, Peek());
      if (c != ',' && c != '\n' && c != '\r' && c != -1) {
        return Error(line_, column_,
                     absl::StrCat("unexpected ",
                                  c >= 0x20 && c < 0x7F
                                      ? absl::StrCat("'", std::string(1, static_cast<char>(c)), "'")
                                      : absl::StrFormat("byte 0x%02x", c),
                                  " after a closing quote; expected ',' or the end of the line "
                                  "(write a quote inside a quoted field as \"\")"));
      }
    } else {
      for (;;) {
        RF_ASSIGN_OR_RETURN(c, Peek());
        if (c == -1 || c == ',' || c == '\n' || c == '\r') break;
        Advance(c);
        f.text += static_cast<char>(c);
      }
    }
    fields->push_back(std::move(f));
    if (c == ',') {
      Advance(c);
      continue;
    }
    if (c != -1) RF_RETURN_IF_ERROR(end_line(c));
    return true;
  }
}

// --- policies ------------------------------------------------------------------

absl::StatusOr<MissingPolicy> ParseMissingPolicy(const std::string& name) {
  if (name == "error") return MissingPolicy::kError;
  if (name == "interpolate") return MissingPolicy::kInterpolate;
  if (name == "drop") return MissingPolicy::kDrop;
  return absl::InvalidArgumentError(absl::StrCat("unknown missing-value policy '", name,
                                                 "' (expected error, interpolate or drop)"));
}

const char* MissingPolicyName(MissingPolicy policy) {
  switch (policy) {
    case MissingPolicy::kInterpolate:
      return "interpolate";
    case MissingPolicy::kDrop:
      return "drop";
    default:
      return "error";
  }
}

namespace {

constexpr const char* kSplitNames[3] = {"train", "valid", "test"};

// Fills missing values (NaN) linearly between the neighbours in the same
// column; holds only the rows from the oldest unresolved gap on.
class Interpolator {
 public:
  explicit Interpolator(size_t columns)
      : has_last_(columns, false),
        open_(columns, false),
        last_(columns, 0),
        last_row_(columns, -1) {}

  template <typename Out>
  absl::Status Add(const std::vector<double>& row, Out&& out) {
    const int64_t r = next_++;
    pending_.push_back(row);
    for (size_t j = 0; j < row.size(); ++j) {
      if (std::isnan(row[j])) {
        open_[j] = true;
        continue;
      }
      if (open_[j]) {
        const int64_t from = has_last_[j] ? last_row_[j] + 1 : 0;
        for (int64_t k = from; k < r; ++k) {
          pending_[k - first_][j] = has_last_[j]
                                        ? last_[j] + (row[j] - last_[j]) *
                                                         static_cast<double>(k - last_row_[j]) /
                                                         static_cast<double>(r - last_row_[j])
                                        : row[j];
        }
        open_[j] = false;
      }
      has_last_[j] = true;
      last_[j] = row[j];
      last_row_[j] = r;
    }
    return Flush(out);
  }

  // Trailing gaps take the last value. Returns the index of a column that
  // never had a value, or -1.
  template <typename Out>
  absl::StatusOr<int64_t> Finish(Out&& out) {
    for (size_t j = 0; j < open_.size(); ++j) {
      if (!open_[j]) continue;
      if (!has_last_[j]) return static_cast<int64_t>(j);
      for (int64_t k = last_row_[j] + 1; k < next_; ++k) pending_[k - first_][j] = last_[j];
      open_[j] = false;
    }
    RF_RETURN_IF_ERROR(Flush(out));
    return -1;
  }

 private:
  template <typename Out>
  absl::Status Flush(Out&& out) {
    while (!pending_.empty()) {
      const std::vector<double>& front = pending_.front();
      for (double v : front) {
        if (std::isnan(v)) return absl::OkStatus();
      }
      RF_RETURN_IF_ERROR(out(front));
      pending_.pop_front();
      ++first_;
    }
    return absl::OkStatus();
  }

  std::deque<std::vector<double>> pending_;
  int64_t first_ = 0, next_ = 0;  // row index of pending_.front(), of the next row
  std::vector<bool> has_last_, open_;
  std::vector<double> last_;
  std::vector<int64_t> last_row_;
};

// Removes a file when it goes out of scope.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() { ::unlink(path.c_str()); }
};

std::string Quote(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

}  // namespace

// --- PrepareSeries ---------------------------------------------------------------

absl::StatusOr<SeriesPrepareReport> PrepareSeries(const std::string& csv_path,
                                                  const std::string& out_dir,
                                                  const SeriesPrepareOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const double v = options.valid_fraction, t = options.test_fraction;
  RF_RETURN_IF_ERROR(CheckSplitFractions("SeriesPrepareOptions", v, t));
  RF_ASSIGN_OR_RETURN(auto csv, CsvReader::Open(csv_path, options.block_bytes));
  std::vector<CsvField> header;
  RF_ASSIGN_OR_RETURN(bool has_header, csv->Next(&header));
  if (!has_header) {
    return absl::InvalidArgumentError(absl::StrCat(csv_path, ":1:1: empty file (no header row)"));
  }
  std::vector<std::string> header_names;
  for (const CsvField& f : header) header_names.push_back(f.text);
  const std::string header_list = absl::StrJoin(header_names, ", ");
  if (options.columns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        csv_path,
        ": no columns selected (SeriesPrepareOptions::columns is empty); the header has: ",
        header_list));
  }
  const size_t F = options.columns.size();
  std::vector<size_t> index(F);
  for (size_t j = 0; j < F; ++j) {
    const std::string& name = options.columns[j];
    for (size_t k = 0; k < j; ++k) {
      if (options.columns[k] == name) {
        return absl::InvalidArgumentError(absl::StrCat("column '", name, "' is selected twice"));
      }
    }
    int64_t found = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].text != name) continue;
      if (found >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            csv_path, ":", header[i].line, ":", header[i].column, ": column '", name,
            "' appears twice in the header (also at column ", header[found].column, ")"));
      }
      found = static_cast<int64_t>(i);
    }
    if (found < 0) {
      return absl::InvalidArgumentError(absl::StrCat(csv_path, ":", header.front().line,
                                                     ":1: no column '", name,
                                                     "' in the header; it has: ", header_list));
    }
    index[j] = static_cast<size_t>(found);
  }
  RF_RETURN_IF_ERROR(MakeDirectories(out_dir));

  SeriesPrepareReport report;
  report.source = csv_path;
  report.out_dir = out_dir;
  report.input_bytes = csv->size();
  report.columns.resize(F);
  for (size_t j = 0; j < F; ++j) report.columns[j].name = options.columns[j];

  // Pass 1: parse, apply the policy, write raw float64 rows to a scratch file.
  const std::string raw_path = out_dir + "/series.raw.tmp";
  RemoveOnExit remove_raw{raw_path};
  {
    BlockWriter raw;
    RF_RETURN_IF_ERROR(raw.Open(raw_path, options.block_bytes));
    int64_t rows = 0;
    auto write_row = [&](const std::vector<double>& row) -> absl::Status {
      ++rows;
      return raw.Write(row.data(), sizeof(double) * row.size());
    };
    Interpolator interpolator(F);
    std::vector<CsvField> fields;
    std::vector<double> row(F);
    for (;;) {
      RF_ASSIGN_OR_RETURN(bool more, csv->Next(&fields));
      if (!more) break;
      if (fields.size() != header.size()) {
        const int64_t column = fields.size() > header.size() ? fields[header.size()].column : 1;
        return absl::InvalidArgumentError(absl::StrCat(
            csv_path, ":", csv->record_line(), ":", column, ": row has ", fields.size(),
            fields.size() == 1 ? " field" : " fields", "; the header has ", header.size()));
      }
      bool missing = false;
      for (size_t j = 0; j < F; ++j) {
        const CsvField& f = fields[index[j]];
        const absl::string_view text = absl::StripAsciiWhitespace(f.text);
        double value = 0;
        if (!text.empty() && absl::SimpleAtod(text, &value) && std::isfinite(value)) {
          row[j] = value;
          continue;
        }
        if (options.missing == MissingPolicy::kError) {
          return absl::InvalidArgumentError(absl::StrCat(
              csv_path, ":", f.line, ":", f.column, ": column '", options.columns[j],
              "': expected a number; got ", f.text.empty() ? "an empty field" : Quote(f.text)));
        }
        ++report.columns[j].missing;
        row[j] = std::numeric_limits<double>::quiet_NaN();
        missing = true;
      }
      if (missing && options.missing == MissingPolicy::kDrop) {
        ++report.dropped_rows;
        continue;
      }
      if (options.missing == MissingPolicy::kInterpolate) {
        RF_RETURN_IF_ERROR(interpolator.Add(row, write_row));
      } else {
        RF_RETURN_IF_ERROR(write_row(row));
      }
    }
    if (options.missing == MissingPolicy::kInterpolate) {
      RF_ASSIGN_OR_RETURN(int64_t empty_column, interpolator.Finish(write_row));
      if (empty_column >= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(csv_path, ": column '", options.columns[empty_column],
                         "' has no numeric value to interpolate from"));
      }
    }
    if (rows == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          csv_path, ": no data rows", report.dropped_rows > 0 ? " (every row was dropped)" : ""));
    }
    report.rows = rows;
    RF_RETURN_IF_ERROR(raw.Commit());
  }
  const int64_t R = report.rows;
  const int64_t train = SplitPoint(R, 1 - v - t);
  const int64_t valid_end = std::max(train, SplitPoint(R, 1 - t));
  report.split_rows[0] = train;
  report.split_rows[1] = valid_end - train;
  report.split_rows[2] = R - valid_end;
  if (train < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(csv_path, ": ", R, " rows leave nothing for the train split"));
  }

  // Pass 2: mean and std over the train rows (Welford).
  const int64_t row_bytes = static_cast<int64_t>(sizeof(double) * F);
  const int64_t block_rows = std::max<int64_t>(1, options.block_bytes / row_bytes);
  std::vector<double> mean(F, 0), m2(F, 0);
  {
    BlockReader reader;
    RF_RETURN_IF_ERROR(reader.Open(raw_path, block_rows * row_bytes));
    int64_t r = 0;
    while (r < train) {
      RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
      if (block.empty()) break;
      const double* x = reinterpret_cast<const double*>(block.data());
      const int64_t n =
          std::min<int64_t>(static_cast<int64_t>(block.size()) / row_bytes, train - r);
      for (int64_t i = 0; i < n; ++i, ++r) {
        for (size_t j = 0; j < F; ++j) {
          const double d = x[i * F + j] - mean[j];
          mean[j] += d / static_cast<double>(r + 1);
          m2[j] += d * (x[i * F + j] - mean[j]);
        }
      }
    }
  }
  for (size_t j = 0; j < F; ++j) {
    const double sd = std::sqrt(m2[j] / static_cast<double>(train));
    report.columns[j].mean = mean[j];
    report.columns[j].std = sd > 0 && std::isfinite(sd) ? sd : 1.0;
  }

  // Pass 3: normalise into series.f32.
  SeriesFileHeader h;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.magic, kSeriesFileMagic, sizeof(h.magic));
  h.version = kSeriesFileVersion;
  h.columns = static_cast<uint32_t>(F);
  h.rows = static_cast<uint64_t>(R);
  for (int i = 0; i < 3; ++i) h.split_rows[i] = static_cast<uint64_t>(report.split_rows[i]);
  h.data_offset = (sizeof(h) + 16 * F + 63) / 64 * 64;
  std::string head(h.data_offset, '\0');
  std::memcpy(head.data(), &h, sizeof(h));
  for (size_t j = 0; j < F; ++j) {
    std::memcpy(head.data() + sizeof(h) + 16 * j, &report.columns[j].mean, 8);
    std::memcpy(head.data() + sizeof(h) + 16 * j + 8, &report.columns[j].std, 8);
  }
  {
    BlockWriter out;
    RF_RETURN_IF_ERROR(out.Open(out_dir + "/series.f32", options.block_bytes));
    RF_RETURN_IF_ERROR(out.Write(head));
    BlockReader reader;
    RF_RETURN_IF_ERROR(reader.Open(raw_path, block_rows * row_bytes));
    std::vector<float> z(static_cast<size_t>(block_rows) * F);
    int64_t r = 0;
    for (;;) {
      RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
      if (block.empty()) break;
      const double* x = reinterpret_cast<const double*>(block.data());
      const int64_t n = static_cast<int64_t>(block.size()) / row_bytes;
      for (int64_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < F; ++j) {
          z[i * F + j] =
              static_cast<float>((x[i * F + j] - report.columns[j].mean) / report.columns[j].std);
        }
      }
      RF_RETURN_IF_ERROR(out.Write(z.data(), sizeof(float) * F * n));
      r += n;
    }
    if (r != R) {
      return absl::DataLossError(
          absl::StrCat(raw_path, ": read back ", r, " rows of ", R, " (scratch file changed?)"));
    }
    RF_RETURN_IF_ERROR(out.Commit());
  }

  std::string stats = "column\tmean\tstd\tmissing\n";
  for (const SeriesColumnStats& c : report.columns) {
    absl::StrAppend(&stats, c.name, "\t", absl::StrFormat("%.17g\t%.17g", c.mean, c.std), "\t",
                    c.missing, "\n");
  }
  RF_RETURN_IF_ERROR(WriteSmallFile(out_dir + "/stats.tsv", stats));

  std::string meta = "{\n  \"format\": \"rnnflow-prepared-series\",\n  \"format_version\": 1,\n";
  absl::StrAppend(&meta, "  \"source\": ", JsonQuote(csv_path), ",\n");
  absl::StrAppend(&meta, "  \"source_bytes\": ", report.input_bytes, ",\n");
  std::vector<std::string> quoted;
  for (const SeriesColumnStats& c : report.columns) quoted.push_back(JsonQuote(c.name));
  absl::StrAppend(&meta, "  \"columns\": [", absl::StrJoin(quoted, ", "), "],\n");
  absl::StrAppend(&meta, "  \"missing\": \"", MissingPolicyName(options.missing), "\",\n");
  absl::StrAppend(&meta, "  \"rows\": ", R, ",\n  \"dropped_rows\": ", report.dropped_rows, ",\n");
  absl::StrAppend(&meta, "  \"valid_fraction\": ", v, ",\n  \"test_fraction\": ", t, ",\n");
  absl::StrAppend(&meta, "  \"splits\": {");
  int64_t begin = 0;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&meta, i ? ", " : "", "\"", kSplitNames[i], "\": {\"begin_row\": ", begin,
                    ", \"rows\": ", report.split_rows[i], "}");
    begin += report.split_rows[i];
  }
  absl::StrAppend(&meta, "}\n}\n");
  RF_RETURN_IF_ERROR(WriteSmallFile(out_dir + "/meta.json", meta));

  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.mb_per_second =
      report.seconds > 0 ? static_cast<double>(report.input_bytes) / 1e6 / report.seconds : 0;
  report.peak_rss_bytes = PeakRssBytes();
  return report;
}

absl::StatusOr<std::vector<SeriesColumnStats>> ReadSeriesStats(const std::string& dir) {
  const std::string path = dir + "/stats.tsv";
  BlockReader reader;
  RF_RETURN_IF_ERROR(reader.Open(path));
  std::string text;
  for (;;) {
    RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    if (block.empty()) break;
    text.append(block.data(), block.size());
  }
  std::vector<SeriesColumnStats> out;
  int64_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty() || line_no == 1) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    SeriesColumnStats s;
    if (f.size() != 4 || !absl::SimpleAtod(f[1], &s.mean) || !absl::SimpleAtod(f[2], &s.std) ||
        !absl::SimpleAtoi(f[3], &s.missing)) {
      return absl::DataLossError(
          absl::StrCat(path, ":", line_no, ":1: expected column<TAB>mean<TAB>std<TAB>missing"));
    }
    s.name = f[0];
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rnnflow
