#include "runtime/token_streams.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"

namespace rnnflow {

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat(path, ": cannot stat: ", std::strerror(err)));
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = st.st_size;
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat(path, ": cannot map: ", std::strerror(err)));
    }
    ::madvise(p, f->size_, MADV_SEQUENTIAL);
    f->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::OpenBytes(const std::string& path,
                                                                      int64_t num_streams,
                                                                      int64_t steps) {
  return OpenBytesRange(path, 0.0, 1.0, num_streams, steps);
}

absl::StatusOr<std::unique_ptr<TokenStreams>> TokenStreams::OpenBytesRange(
    const std::string& path, double begin_fraction, double end_fraction, int64_t num_streams,
    int64_t steps) {
  if (num_streams < 1 || steps < 1) {
    return absl::InvalidArgumentError("streams and steps per chunk must be >= 1");
  }
  RF_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  const int64_t begin = static_cast<int64_t>(begin_fraction * file->size());
  const int64_t end = static_cast<int64_t>(end_fraction * file->size());
  const int64_t length = (end - begin - 1) / num_streams;
  if (length < steps) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", end - begin, " bytes are too few for ", num_streams, " streams of at least ",
        steps, " steps (+1 target); use fewer streams or shorter chunks"));
  }
  std::unique_ptr<TokenStreams> s(new TokenStreams());
  s->begin_ = file->data() + begin;
  s->file_ = std::move(file);
  s->num_streams_ = num_streams;
  s->steps_ = steps;
  s->stream_length_ = length;
  return s;
}

bool TokenStreams::Next(absl::Span<int32_t> tokens, absl::Span<int32_t> targets) {
  bool new_epoch = position_ == 0;
  if (position_ + steps_ > stream_length_) {
    position_ = 0;
    new_epoch = true;
  }
  for (int64_t t = 0; t < steps_; ++t) {
    for (int64_t c = 0; c < num_streams_; ++c) {
      const uint8_t* p = begin_ + c * stream_length_ + position_ + t;
      tokens[t * num_streams_ + c] = p[0];
      targets[t * num_streams_ + c] = p[1];
    }
  }
  position_ += steps_;
  return new_epoch;
}

}  // namespace rnnflow
