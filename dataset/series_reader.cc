#include "rnnflow/dataset/series_reader.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<SeriesFile>> SeriesFile::Open(const std::string& path) {
  RF_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  SeriesFileHeader h;
  if (file->size() < static_cast<int64_t>(sizeof(h))) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", file->size(), " bytes: too short for a series header (64)"));
  }
  std::memcpy(&h, file->data(), sizeof(h));
  if (std::memcmp(h.magic, kSeriesFileMagic, sizeof(h.magic)) != 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a series file (no RNFSERIE magic); prepare it with `rnnflow prepare series`"));
  }
  if (h.version != kSeriesFileVersion) {
    return absl::DataLossError(absl::StrCat(path, ": series file version ", h.version,
                                            "; this build reads version ", kSeriesFileVersion));
  }
  const uint64_t stats_end = sizeof(h) + 16 * static_cast<uint64_t>(h.columns);
  if (h.columns == 0 || h.columns > (1u << 20) || h.rows > (uint64_t{1} << 40) ||
      h.split_rows[0] + h.split_rows[1] + h.split_rows[2] != h.rows || h.data_offset < stats_end ||
      h.data_offset % 64 != 0 ||
      static_cast<uint64_t>(file->size()) != h.data_offset + 4 * h.rows * h.columns) {
    return absl::DataLossError(
        absl::StrCat(path, ": inconsistent header (", h.columns, " columns, ", h.rows,
                     " rows = ", h.split_rows[0], " + ", h.split_rows[1], " + ", h.split_rows[2],
                     ", data at ", h.data_offset, ") for a file of ", file->size(), " bytes"));
  }
  std::unique_ptr<SeriesFile> s(new SeriesFile());
  s->rows_ = static_cast<int64_t>(h.rows);
  s->columns_ = h.columns;
  for (int i = 0; i < 3; ++i) s->split_rows_[i] = static_cast<int64_t>(h.split_rows[i]);
  s->mean_.resize(h.columns);
  s->std_.resize(h.columns);
  for (uint32_t c = 0; c < h.columns; ++c) {
    std::memcpy(&s->mean_[c], file->data() + sizeof(h) + 16 * c, 8);
    std::memcpy(&s->std_[c], file->data() + sizeof(h) + 16 * c + 8, 8);
  }
  s->data_ = reinterpret_cast<const float*>(file->data() + h.data_offset);
  s->file_ = std::move(file);
  return s;
}

int64_t SeriesFile::split_begin(int split) const {
  int64_t b = 0;
  for (int i = 0; i < split; ++i) b += split_rows_[i];
  return b;
}

absl::StatusOr<std::unique_ptr<SeriesStreams>> SeriesStreams::Open(const std::string& dir,
                                                                   const std::string& split,
                                                                   int64_t num_streams,
                                                                   int64_t steps) {
  int index = -1;
  if (split == "train") index = 0;
  if (split == "valid") index = 1;
  if (split == "test") index = 2;
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown split '", split, "' (expected train, valid or test)"));
  }
  if (num_streams < 1 || steps < 1) {
    return absl::InvalidArgumentError("streams and steps per chunk must be >= 1");
  }
  const std::string path = dir + "/series.f32";
  RF_ASSIGN_OR_RETURN(auto file, SeriesFile::Open(path));
  const int64_t rows = file->split_rows(index);
  const int64_t length = (rows - 1) / num_streams;
  if (rows < 1 || length < steps) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the ", split, " split's ", rows, " rows are too few for ",
                     num_streams, " streams of at least ", steps,
                     " steps (+1 target); use fewer streams or shorter "
                     "chunks"));
  }
  std::unique_ptr<SeriesStreams> s(new SeriesStreams());
  s->begin_ = file->data() + file->split_begin(index) * file->columns();
  s->file_ = std::move(file);
  s->num_streams_ = num_streams;
  s->local_streams_ = num_streams;
  s->steps_ = steps;
  s->stream_length_ = length;
  return s;
}

absl::Status SeriesStreams::SelectColumns(int64_t first, int64_t count) {
  if (first < 0 || count < 1 || first + count > num_streams_) {
    return absl::InvalidArgumentError(absl::StrCat("streams [", first, ", ", first + count,
                                                   ") are not within the ", num_streams_,
                                                   " streams"));
  }
  first_stream_ = first;
  local_streams_ = count;
  return absl::OkStatus();
}

bool SeriesStreams::Next(absl::Span<float> inputs, absl::Span<float> targets) {
  bool new_epoch = position_ == 0;
  if (position_ + steps_ > stream_length_) {
    position_ = 0;
    new_epoch = true;
  }
  const int64_t f = file_->columns();
  for (int64_t t = 0; t < steps_; ++t) {
    for (int64_t c = 0; c < local_streams_; ++c) {
      const float* row = begin_ + ((first_stream_ + c) * stream_length_ + position_ + t) * f;
      float* in = inputs.data() + (t * local_streams_ + c) * f;
      float* out = targets.data() + (t * local_streams_ + c) * f;
      std::memcpy(in, row, sizeof(float) * f);
      std::memcpy(out, row + f, sizeof(float) * f);
    }
  }
  position_ += steps_;
  return new_epoch;
}

}  // namespace rnnflow
