#include "rnnflow/dataset/token_streams.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::Open(const std::string& path) {
  RF_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  TokenFileHeader h;
  if (file->size() < static_cast<int64_t>(sizeof(h))) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", file->size(), " bytes: too short for a token file header (32)"));
  }
  std::memcpy(&h, file->data(), sizeof(h));
  if (std::memcmp(h.magic, kTokenFileMagic, sizeof(h.magic)) != 0) {
    return absl::DataLossError(
        absl::StrCat(path,
                     ": not a token file (no RNFTOKEN magic); prepare the corpus with "
                     "`rnnflow prepare text`"));
  }
  if (h.version != kTokenFileVersion) {
    return absl::DataLossError(absl::StrCat(path, ": token file version ", h.version,
                                            "; this build reads version ", kTokenFileVersion));
  }
  if (h.token_width != 1 && h.token_width != 2 && h.token_width != 4) {
    return absl::DataLossError(
        absl::StrCat(path, ": token width ", h.token_width, " (expected 1, 2 or 4)"));
  }
  const uint64_t expected = sizeof(h) + h.count * h.token_width;
  if (h.count > (uint64_t{1} << 60) || static_cast<uint64_t>(file->size()) != expected) {
    return absl::DataLossError(absl::StrCat(path, ": ", file->size(), " bytes, but the header's ",
                                            h.count, " tokens of ", h.token_width, " bytes need ",
                                            expected, " (truncated file?)"));
  }
  std::unique_ptr<TokenFile> t(new TokenFile());
  t->data_ = file->data() + sizeof(h);
  t->file_ = std::move(file);
  t->width_ = static_cast<int>(h.token_width);
  t->count_ = static_cast<int64_t>(h.count);
  t->vocab_size_ = h.vocab_size;
  return t;
}

uint32_t TokenFile::at(int64_t i) const {
  switch (width_) {
    case 1:
      return data_[i];
    case 2: {
      uint16_t v;
      std::memcpy(&v, data_ + 2 * i, 2);
      return v;
    }
    default: {
      uint32_t v;
      std::memcpy(&v, data_ + 4 * i, 4);
      return v;
    }
  }
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::Make(
    std::unique_ptr<MappedFile> file, const uint8_t* begin, int64_t count, int width,
    int64_t vocab_size, int64_t num_streams, int64_t steps) {
  if (num_streams < 1 || steps < 1) {
    return absl::InvalidArgumentError("streams and steps per chunk must be >= 1");
  }
  const int64_t length = (count - 1) / num_streams;
  if (count < 1 || length < steps) {
    return absl::InvalidArgumentError(absl::StrCat(
        file->path(), ": ", count, width == 1 && vocab_size == 256 ? " bytes" : " tokens",
        " are too few for ", num_streams, " streams of at least ", steps,
        " steps (+1 target); use fewer streams or shorter chunks"));
  }
  std::unique_ptr<TokenStreams> s(new TokenStreams());
  s->file_ = std::move(file);
  s->begin_ = begin;
  s->width_ = width;
  s->vocab_size_ = vocab_size;
  s->num_streams_ = num_streams;
  s->steps_ = steps;
  s->stream_length_ = length;
  return s;
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::OpenBytes(const std::string& path,
                                                                      int64_t num_streams,
                                                                      int64_t steps) {
  return OpenBytesRange(path, 0.0, 1.0, num_streams, steps);
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::OpenBytesRange(const std::string& path,
                                                                           double begin_fraction,
                                                                           double end_fraction,
                                                                           int64_t num_streams,
                                                                           int64_t steps) {
  if (num_streams < 1 || steps < 1) {
    return absl::InvalidArgumentError("streams and steps per chunk must be >= 1");
  }
  RF_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  const int64_t begin = static_cast<int64_t>(begin_fraction * file->size());
  const int64_t end = static_cast<int64_t>(end_fraction * file->size());
  const uint8_t* data = file->data() + begin;
  return Make(std::move(file), data, end - begin, 1, 256, num_streams, steps);
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::OpenPrepared(const std::string& dir,
                                                                         const std::string& split,
                                                                         int64_t num_streams,
                                                                         int64_t steps) {
  if (split != "train" && split != "valid" && split != "test") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown split '", split, "' (expected train, valid or test)"));
  }
  RF_ASSIGN_OR_RETURN(auto tokens, TokenFile::Open(absl::StrCat(dir, "/", split, ".tok")));
  const uint8_t* data = tokens->data();
  const int64_t count = tokens->size();
  const int width = tokens->width();
  const int64_t vocab = tokens->vocab_size();
  return Make(tokens->Release(), data, count, width, vocab, num_streams, steps);
}

template <typename T>
void TokenStreams::Fill(int64_t position, absl::Span<int32_t> tokens,
                        absl::Span<int32_t> targets) const {
  const T* base = reinterpret_cast<const T*>(begin_);
  const int64_t n = columns();
  for (int64_t t = 0; t < steps_; ++t) {
    for (int64_t c = 0; c < n; ++c) {
      const T* p = base + (first_column_ + c) * stream_length_ + position + t;
      tokens[t * n + c] = static_cast<int32_t>(p[0]);
      targets[t * n + c] = static_cast<int32_t>(p[1]);
    }
  }
}

void TokenStreams::FillAt(int64_t position, absl::Span<int32_t> tokens,
                          absl::Span<int32_t> targets) const {
  switch (width_) {
    case 1:
      Fill<uint8_t>(position, tokens, targets);
      break;
    case 2:
      Fill<uint16_t>(position, tokens, targets);
      break;
    default:
      Fill<uint32_t>(position, tokens, targets);
      break;
  }
}

void TokenStreams::EnablePrefetch() {
  prefetcher_.reset();  // joins a fill in flight
  prefetcher_ = std::make_unique<ChunkPrefetcher>(
      steps_ * columns(),
      [this](int64_t position, absl::Span<int32_t> tokens, absl::Span<int32_t> targets) {
        FillAt(position, tokens, targets);
      });
}

absl::Status TokenStreams::SelectColumns(int64_t first, int64_t count) {
  if (first < 0 || count < 1 || first + count > num_streams_) {
    return absl::InvalidArgumentError(absl::StrCat("columns [", first, ", ", first + count,
                                                   ") are not within the ", num_streams_,
                                                   " streams"));
  }
  const bool prefetch = prefetcher_ != nullptr;
  prefetcher_.reset();  // its fills read the column range
  first_column_ = first;
  local_columns_ = count;
  if (prefetch) EnablePrefetch();
  return absl::OkStatus();
}

bool TokenStreams::Next(absl::Span<int32_t> tokens, absl::Span<int32_t> targets) {
  bool new_epoch = position_ == 0;
  if (position_ + steps_ > stream_length_) {
    position_ = 0;
    new_epoch = true;
  }
  if (prefetcher_ == nullptr || !prefetcher_->Take(position_, tokens, targets)) {
    FillAt(position_, tokens, targets);
  }
  position_ += steps_;
  if (prefetcher_ != nullptr) {
    prefetcher_->Start(position_ + steps_ > stream_length_ ? 0 : position_);
  }
  return new_epoch;
}

absl::StatusOr<std::unique_ptr<TokenStreams>> OpenTrainingStreams(const std::string& data,
                                                                  const std::string& split,
                                                                  int64_t num_streams,
                                                                  int64_t steps) {
  struct stat st;
  if (::stat(data.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(data, ": cannot open: ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) return TokenStreams::OpenPrepared(data, split, num_streams, steps);
  if (split == "train") return TokenStreams::OpenBytesRange(data, 0.0, 0.9, num_streams, steps);
  if (split == "valid") return TokenStreams::OpenBytesRange(data, 0.9, 1.0, num_streams, steps);
  return absl::InvalidArgumentError(
      absl::StrCat(data,
                   ": a raw text file has only the splits train (first 90%) and valid (last 10%); "
                   "got '",
                   split, "' (prepare it with `rnnflow prepare text` for a test split)"));
}

}  // namespace rnnflow
