#include "rnnflow/dataset/internal/data_io.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnflow {

BlockReader::~BlockReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status BlockReader::Open(const std::string& path, int64_t block_bytes) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY);
  if (fd_ < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    return absl::InternalError(absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  size_ = st.st_size;
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  buffer_.resize(static_cast<size_t>(std::max<int64_t>(block_bytes, 1)));
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> BlockReader::Next() {
  size_t got = 0;
  while (got < buffer_.size()) {
    const ssize_t n = ::read(fd_, buffer_.data() + got, buffer_.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return absl::string_view(buffer_.data(), got);
}

BlockWriter::~BlockWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

absl::Status BlockWriter::Open(const std::string& path, int64_t buffer_bytes) {
  path_ = path;
  tmp_path_ = path + ".tmp";
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd_ < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(tmp_path_, ": cannot create: ", std::strerror(errno)));
  }
  buffer_.resize(static_cast<size_t>(std::max<int64_t>(buffer_bytes, 1)));
  used_ = 0;
  written_ = 0;
  return absl::OkStatus();
}

absl::Status BlockWriter::WriteAll(const char* p, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t k = ::write(fd_, p + done, n - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(absl::StrCat(tmp_path_, ": write failed: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(k);
  }
  written_ += static_cast<int64_t>(n);
  return absl::OkStatus();
}

absl::Status BlockWriter::Flush() {
  absl::Status s = WriteAll(buffer_.data(), used_);
  used_ = 0;
  return s;
}

absl::Status BlockWriter::WriteSlow(const void* data, size_t n) {
  absl::Status s = Flush();
  if (!s.ok()) return s;
  const char* p = static_cast<const char*>(data);
  if (n >= buffer_.size()) return WriteAll(p, n);  // large writes bypass the buffer
  std::memcpy(buffer_.data(), p, n);
  used_ = n;
  return absl::OkStatus();
}

absl::Status BlockWriter::Commit(absl::string_view header) {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": not open"));
  absl::Status s = Flush();
  if (!s.ok()) return s;
  if (!header.empty() &&
      ::pwrite(fd_, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
    return absl::DataLossError(absl::StrCat(tmp_path_, ": write failed: ", std::strerror(errno)));
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(tmp_path_.c_str());
    return absl::DataLossError(absl::StrCat(tmp_path_, ": close failed: ", std::strerror(errno)));
  }
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_path_.c_str());
    return absl::DataLossError(
        absl::StrCat(path_, ": cannot rename from ", tmp_path_, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status WriteSmallFile(const std::string& path, absl::string_view contents) {
  BlockWriter w;
  absl::Status s = w.Open(path, 1 << 16);
  if (s.ok()) s = w.Write(contents);
  if (s.ok()) s = w.Commit();
  return s;
}

absl::Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir, ": cannot create directory: ", ec.message()));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": exists and is not a directory"));
  }
  return absl::OkStatus();
}

int64_t SplitPoint(int64_t n, double fraction) {
  const double x = std::floor(static_cast<double>(n) * fraction + 1e-6);
  return std::clamp<int64_t>(static_cast<int64_t>(x), 0, n);
}

absl::Status CheckSplitFractions(absl::string_view options, double valid, double test) {
  if (valid >= 0 && test >= 0 && valid + test < 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(options, "::valid_fraction and ", options,
                   "::test_fraction must be >= 0 with a sum below 1; got ", valid, " and ", test));
}

int64_t PeakRssBytes() {
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

absl::StatusOr<TextPosition> LocateOffset(const std::string& path, int64_t offset) {
  BlockReader reader;
  absl::Status s = reader.Open(path);
  if (!s.ok()) return s;
  TextPosition pos;
  int64_t at = 0;
  while (at < offset) {
    auto block = reader.Next();
    if (!block.ok()) return block.status();
    if (block->empty()) break;
    for (char ch : *block) {
      if (at == offset) break;
      const unsigned char c = static_cast<unsigned char>(ch);
      if (c == '\n') {
        ++pos.line;
        pos.column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++pos.column;
      }
      ++at;
    }
  }
  return pos;
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += ch;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace rnnflow
