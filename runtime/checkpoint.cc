#include "rnnflow/runtime/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rnnflow/base/mapped_file.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/initializer.h"

namespace rnnflow {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderSize = 24;
constexpr size_t kTrailerSize = 8;
constexpr char kEndMarker[] = "RFCK";  // 4 bytes
constexpr char kFilePrefix[] = "ckpt-";
constexpr char kFileSuffix[] = ".rfck";
constexpr char kTempSuffix[] = ".tmp";

// --- CRC32C, slicing by 8 ----------------------------------------------------

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables MakeCrcTables() {
  CrcTables t{};
  constexpr uint32_t kPoly = 0x82F63B78u;  // Castagnoli, reflected
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

const CrcTables& Tables() {
  static const CrcTables* tables = new CrcTables(MakeCrcTables());
  return *tables;
}

// --- little-endian encoding ----------------------------------------------------

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

bool LittleEndianHost() {
  const uint32_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// One record to write: its header is encoded eagerly, its data is referenced.
struct OutRecord {
  std::string head;  // name length, name, type, rank, dims, byte length
  const void* data = nullptr;
  size_t bytes = 0;
  std::string owned;  // data for scalar and string records
};

OutRecord MakeRecord(const std::string& name, CheckpointRecordType type, const Shape& shape,
                     const void* data, size_t bytes) {
  OutRecord r;
  PutU32(r.head, static_cast<uint32_t>(name.size()));
  r.head += name;
  PutU32(r.head, static_cast<uint32_t>(type));
  PutU32(r.head, static_cast<uint32_t>(shape.size()));
  for (int64_t d : shape) PutU64(r.head, static_cast<uint64_t>(d));
  PutU64(r.head, bytes);
  r.data = data;
  r.bytes = bytes;
  return r;
}

OutRecord ScalarRecord(const std::string& name, CheckpointRecordType type, uint64_t v) {
  OutRecord r = MakeRecord(name, type, {}, nullptr, 8);
  PutU64(r.owned, v);
  return r;
}

OutRecord StringRecord(const std::string& name, const std::string& s) {
  OutRecord r = MakeRecord(name, CheckpointRecordType::kString, {}, nullptr, s.size());
  r.owned = s;
  return r;
}

// Buffered writes to a file descriptor, with a running CRC32C.
class FileWriter {
 public:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    buffer_.reserve(kBufferSize);
  }

  void Append(const void* data, size_t n) {
    if (!status_.ok()) return;
    crc_ = Crc32c(data, n, crc_);
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const size_t take = std::min(n, kBufferSize - buffer_.size());
      buffer_.append(p, take);
      p += take;
      n -= take;
      if (buffer_.size() == kBufferSize) Flush();
    }
  }
  void Append(const std::string& s) { Append(s.data(), s.size()); }

  void Flush() {
    size_t done = 0;
    while (status_.ok() && done < buffer_.size()) {
      const ssize_t w = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        status_ =
            absl::InternalError(absl::StrCat(path_, ": cannot write: ", std::strerror(errno)));
      } else {
        done += static_cast<size_t>(w);
      }
    }
    buffer_.clear();
  }

  uint32_t crc() const { return crc_; }
  const absl::Status& status() const { return status_; }

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  int fd_;
  std::string path_;
  std::string buffer_;
  uint32_t crc_ = 0;
  absl::Status status_;
};

std::string CheckpointFileName(int64_t step) {
  return absl::StrFormat("%s%010d%s", kFilePrefix, step, kFileSuffix);
}

// The step of a checkpoint file name, or -1 when `name` is not one.
int64_t StepOfFileName(const std::string& name) {
  constexpr size_t kPrefix = sizeof(kFilePrefix) - 1, kSuffix = sizeof(kFileSuffix) - 1;
  if (name.size() <= kPrefix + kSuffix || !absl::StartsWith(name, kFilePrefix) ||
      !absl::EndsWith(name, kFileSuffix)) {
    return -1;
  }
  const std::string digits = name.substr(kPrefix, name.size() - kPrefix - kSuffix);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  int64_t step = -1;
  if (!absl::SimpleAtoi(digits, &step)) return -1;
  return step;
}

bool IsTempFileName(const std::string& name) {
  return absl::StartsWith(name, absl::StrCat(".", kFilePrefix)) &&
         absl::EndsWith(name, absl::StrCat(kFileSuffix, kTempSuffix));
}

absl::Status ErrnoError(const std::string& path, const std::string& what) {
  return absl::InternalError(absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

absl::Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(dir, "cannot open directory to sync it");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    errno = err;
    return ErrnoError(dir, "cannot sync directory");
  }
  return absl::OkStatus();
}

// --- reading -----------------------------------------------------------------

struct InRecord {
  std::string name;
  CheckpointRecordType type;
  Shape shape;
  const uint8_t* data;
  uint64_t bytes;
};

std::string TypeName(CheckpointRecordType type) {
  switch (type) {
    case CheckpointRecordType::kF32:
      return "f32";
    case CheckpointRecordType::kI64:
      return "i64";
    case CheckpointRecordType::kU64:
      return "u64";
    case CheckpointRecordType::kString:
      return "string";
  }
  return absl::StrCat("type ", static_cast<uint32_t>(type));
}

// Parses and checks the records of a checksummed payload.
absl::StatusOr<std::vector<InRecord>> ParseRecords(const std::string& path, const uint8_t* p,
                                                   uint64_t size, uint32_t count) {
  std::vector<InRecord> records;
  uint64_t at = 0;
  auto need = [&](uint64_t n, uint32_t index, const char* what) -> absl::Status {
    if (n > size - at) {
      return absl::DataLossError(absl::StrCat(path, ": corrupt: record ", index, ": ", what,
                                              " runs past the end of the payload"));
    }
    return absl::OkStatus();
  };
  for (uint32_t i = 0; i < count; ++i) {
    InRecord r;
    RF_RETURN_IF_ERROR(need(4, i, "name length"));
    const uint32_t name_len = GetU32(p + at);
    at += 4;
    RF_RETURN_IF_ERROR(need(name_len, i, "name"));
    r.name.assign(reinterpret_cast<const char*>(p + at), name_len);
    at += name_len;
    RF_RETURN_IF_ERROR(need(8, i, "type and rank"));
    const uint32_t type = GetU32(p + at);
    const uint32_t rank = GetU32(p + at + 4);
    at += 8;
    if (type < 1 || type > 4) {
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt: record ", i, " ('", r.name, "') has unknown type ", type));
    }
    r.type = static_cast<CheckpointRecordType>(type);
    if (rank > 16) {
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt: record ", i, " ('", r.name, "') has rank ", rank));
    }
    RF_RETURN_IF_ERROR(need(8ull * rank + 8, i, "shape"));
    int64_t elements = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const int64_t dim = static_cast<int64_t>(GetU64(p + at));
      at += 8;
      if (dim < 0 || dim > (int64_t{1} << 40)) {
        return absl::DataLossError(
            absl::StrCat(path, ": corrupt: record ", i, " ('", r.name, "') has dimension ", dim));
      }
      r.shape.push_back(dim);
      elements *= dim;
      if (elements > (int64_t{1} << 40)) {
        return absl::DataLossError(
            absl::StrCat(path, ": corrupt: record ", i, " ('", r.name, "') is impossibly large"));
      }
    }
    r.bytes = GetU64(p + at);
    at += 8;
    RF_RETURN_IF_ERROR(need(r.bytes, i, "data"));
    r.data = p + at;
    at += r.bytes;
    uint64_t expected = r.bytes;
    switch (r.type) {
      case CheckpointRecordType::kF32:
        expected = static_cast<uint64_t>(elements) * 4;
        break;
      case CheckpointRecordType::kI64:
      case CheckpointRecordType::kU64:
        expected = static_cast<uint64_t>(elements) * 8;
        break;
      case CheckpointRecordType::kString:
        break;
    }
    if (r.bytes != expected) {
      return absl::DataLossError(absl::StrCat(path, ": corrupt: record '", r.name, "' (",
                                              TypeName(r.type), " ", ShapeToString(r.shape),
                                              ") holds ", r.bytes, " bytes; expected ", expected));
    }
    records.push_back(std::move(r));
  }
  if (at != size) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt: ", size - at,
                                            " bytes after the last record of the payload"));
  }
  return records;
}

}  // namespace

uint32_t Crc32c(const void* data, size_t n, uint32_t crc) {
  const CrcTables& t = Tables();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    const uint32_t lo = c ^ (static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                             static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
  return ~c;
}

namespace {

uint64_t HashWithoutTraining(ModelDef model) {
  model.clear_training();
  return StableHash(ModelToText(model));
}

}  // namespace

uint64_t ModelHash(const ModelDef& model) {
  ModelDef copy = model;
  for (NodeDef& node : *copy.mutable_node()) node.mutable_attr()->erase("precision");
  return HashWithoutTraining(std::move(copy));
}

bool CheckpointBelongsTo(uint64_t model_hash, const ModelDef& model) {
  return model_hash == ModelHash(model) || model_hash == HashWithoutTraining(model);
}

absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return std::vector<std::string>{};
  fs::directory_iterator it(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": cannot list: ", ec.message()));
  std::vector<std::pair<int64_t, std::string>> found;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const int64_t step = StepOfFileName(it->path().filename().string());
    if (step >= 0 && it->is_regular_file(ec)) found.emplace_back(step, it->path().string());
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": cannot list: ", ec.message()));
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [step, path] : found) out.push_back(path);
  return out;
}

absl::Status SaveCheckpoint(const std::string& dir, const CheckpointData& data, int keep_last) {
  if (!LittleEndianHost()) {
    return absl::UnimplementedError("checkpoints are only written on little-endian hosts");
  }
  if (data.step < 0) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint step ", data.step, " < 0"));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat(dir, ": cannot create checkpoint directory: ", ec.message()));
  }

  // Records, in a fixed order.
  using RT = CheckpointRecordType;
  std::vector<OutRecord> records;
  records.push_back(ScalarRecord("meta/model_hash", RT::kU64, data.model_hash));
  records.push_back(StringRecord("meta/model_name", data.model_name));
  records.push_back(ScalarRecord("meta/step", RT::kI64, data.step));
  records.push_back(ScalarRecord("meta/optimizer_step", RT::kI64, data.optimizer_step));
  records.push_back(ScalarRecord("meta/schedule_step", RT::kI64, data.schedule_step));
  records.push_back(ScalarRecord("meta/total_steps", RT::kI64, data.total_steps));
  records.push_back(ScalarRecord("meta/truncation_steps", RT::kI64, data.truncation_steps));
  records.push_back(ScalarRecord("meta/num_streams", RT::kI64, data.num_streams));
  records.push_back(ScalarRecord("meta/stream_length", RT::kI64, data.stream_length));
  records.push_back(ScalarRecord("meta/stream_position", RT::kI64, data.stream_position));
  records.push_back(ScalarRecord("meta/series_window", RT::kI64, data.series_window));
  records.push_back(ScalarRecord("meta/seed", RT::kU64, data.seed));
  records.push_back(ScalarRecord("meta/rng_state", RT::kU64, data.rng_state));
  auto add_tensors = [&](const char* prefix, const std::vector<CheckpointTensor>& tensors) {
    for (const CheckpointTensor& t : tensors) {
      records.push_back(MakeRecord(absl::StrCat(prefix, t.name), RT::kF32, t.shape, t.values.data(),
                                   t.values.size() * sizeof(float)));
    }
  };
  add_tensors("param/", data.params);
  add_tensors("optimizer/", data.optimizer);
  add_tensors("state/", data.carried);
  uint64_t payload = 0;
  for (OutRecord& r : records) {
    if (r.data == nullptr) r.data = r.owned.data();
    payload += r.head.size() + r.bytes;
  }

  std::string header(kCheckpointMagic, kMagicSize);
  PutU32(header, kCheckpointFormatVersion);
  PutU32(header, static_cast<uint32_t>(records.size()));
  PutU64(header, payload);

  const std::string name = CheckpointFileName(data.step);
  const std::string final_path = (fs::path(dir) / name).string();
  const std::string temp_path = (fs::path(dir) / absl::StrCat(".", name, kTempSuffix)).string();
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(temp_path, "cannot create");
  FileWriter w(fd, temp_path);
  w.Append(header);
  for (const OutRecord& r : records) {
    w.Append(r.head);
    w.Append(r.data, r.bytes);
  }
  std::string trailer;
  PutU32(trailer, w.crc());
  trailer.append(kEndMarker, 4);
  w.Append(trailer);
  w.Flush();
  absl::Status status = w.status();
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError(temp_path, "cannot sync");
  if (::close(fd) != 0 && status.ok()) status = ErrnoError(temp_path, "cannot close");
  if (status.ok() && ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    status = ErrnoError(final_path, absl::StrCat("cannot rename ", temp_path, " to it"));
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  RF_RETURN_IF_ERROR(FsyncDirectory(dir));

  // Keep the newest `keep_last`; drop temporary files left by killed runs.
  if (keep_last > 0) {
    RF_ASSIGN_OR_RETURN(std::vector<std::string> all, ListCheckpoints(dir));
    for (size_t i = 0; i + keep_last < all.size(); ++i) {
      if (::unlink(all[i].c_str()) != 0 && errno != ENOENT) {
        return ErrnoError(all[i], "cannot delete old checkpoint");
      }
    }
  }
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (IsTempFileName(it->path().filename().string())) ::unlink(it->path().c_str());
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointData> LoadCheckpoint(const std::string& path) {
  if (!LittleEndianHost()) {
    return absl::UnimplementedError("checkpoints are only read on little-endian hosts");
  }
  RF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  const uint8_t* p = file->data();
  const uint64_t size = static_cast<uint64_t>(file->size());
  if (size < kMagicSize || std::memcmp(p, kCheckpointMagic, kMagicSize) != 0) {
    return absl::DataLossError(absl::StrCat(path,
                                            ": not an rnnflow checkpoint (it does not start "
                                            "with \"RNNFCKPT\"; ",
                                            size, " bytes)"));
  }
  if (size < kHeaderSize) {
    return absl::DataLossError(
        absl::StrCat(path, ": truncated: ", size, " bytes, shorter than the 24-byte header"));
  }
  const uint32_t version = GetU32(p + 8);
  if (version != kCheckpointFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": checkpoint format version ", version,
        " is not supported (this build reads version ", kCheckpointFormatVersion, ")"));
  }
  const uint32_t count = GetU32(p + 12);
  const uint64_t payload = GetU64(p + 16);
  const uint64_t body = size - kHeaderSize;  // payload + trailer
  if (payload > body || body - payload != kTrailerSize) {
    const bool shorter = payload > body || body - payload < kTrailerSize;
    return absl::DataLossError(absl::StrCat(
        path, ": ", shorter ? "truncated" : "corrupt (trailing bytes)", ": the header announces ",
        payload, " bytes of records, so the file should be ", kHeaderSize + payload + kTrailerSize,
        " bytes long; it is ", size));
  }
  const uint8_t* trailer = p + kHeaderSize + payload;
  if (std::memcmp(trailer + 4, kEndMarker, 4) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt: the end marker \"RFCK\" is missing"));
  }
  const uint32_t stored = GetU32(trailer);
  const uint32_t computed = Crc32c(p, kHeaderSize + payload);
  if (stored != computed) {
    return absl::DataLossError(absl::StrFormat(
        "%s: corrupt: CRC32C checksum mismatch (stored %08x, computed %08x over %d bytes)", path,
        stored, computed, kHeaderSize + payload));
  }
  RF_ASSIGN_OR_RETURN(std::vector<InRecord> records,
                      ParseRecords(path, p + kHeaderSize, payload, count));

  CheckpointData data;
  data.path = path;
  std::map<std::string, const InRecord*> meta;
  std::map<std::string, bool> seen;
  for (const InRecord& r : records) {
    if (!seen.emplace(r.name, true).second) {
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt: record '", r.name, "' appears twice"));
    }
    if (absl::StartsWith(r.name, "meta/")) {
      meta[r.name] = &r;
      continue;
    }
    if (r.type != CheckpointRecordType::kF32) continue;  // a later version's record
    for (auto [prefix, out] :
         {std::pair<const char*, std::vector<CheckpointTensor>*>{"param/", &data.params},
          {"optimizer/", &data.optimizer},
          {"state/", &data.carried}}) {
      if (!absl::StartsWith(r.name, prefix)) continue;
      CheckpointTensor t;
      t.name = r.name.substr(std::strlen(prefix));
      t.shape = r.shape;
      t.values.resize(r.bytes / sizeof(float));
      if (r.bytes > 0) std::memcpy(t.values.data(), r.data, r.bytes);
      out->push_back(std::move(t));
      break;
    }
  }
  auto scalar = [&](const std::string& name, CheckpointRecordType type,
                    uint64_t* out) -> absl::Status {
    auto it = meta.find(name);
    if (it == meta.end()) {
      return absl::DataLossError(absl::StrCat(path, ": the record '", name, "' is missing"));
    }
    const InRecord& r = *it->second;
    if (r.type != type || !r.shape.empty()) {
      return absl::DataLossError(absl::StrCat(path, ": record '", name, "' is ", TypeName(r.type),
                                              " ", ShapeToString(r.shape), "; expected a ",
                                              TypeName(type), " scalar"));
    }
    *out = GetU64(r.data);
    return absl::OkStatus();
  };
  auto i64 = [&](const std::string& name, int64_t* out) -> absl::Status {
    uint64_t v = 0;
    RF_RETURN_IF_ERROR(scalar(name, CheckpointRecordType::kI64, &v));
    *out = static_cast<int64_t>(v);
    return absl::OkStatus();
  };
  RF_RETURN_IF_ERROR(scalar("meta/model_hash", CheckpointRecordType::kU64, &data.model_hash));
  RF_RETURN_IF_ERROR(scalar("meta/seed", CheckpointRecordType::kU64, &data.seed));
  RF_RETURN_IF_ERROR(scalar("meta/rng_state", CheckpointRecordType::kU64, &data.rng_state));
  RF_RETURN_IF_ERROR(i64("meta/step", &data.step));
  RF_RETURN_IF_ERROR(i64("meta/optimizer_step", &data.optimizer_step));
  RF_RETURN_IF_ERROR(i64("meta/schedule_step", &data.schedule_step));
  RF_RETURN_IF_ERROR(i64("meta/total_steps", &data.total_steps));
  RF_RETURN_IF_ERROR(i64("meta/truncation_steps", &data.truncation_steps));
  RF_RETURN_IF_ERROR(i64("meta/num_streams", &data.num_streams));
  RF_RETURN_IF_ERROR(i64("meta/stream_length", &data.stream_length));
  RF_RETURN_IF_ERROR(i64("meta/stream_position", &data.stream_position));
  data.series_window = -1;  // optional: absent from checkpoints before windowed training
  if (meta.count("meta/series_window")) {
    RF_RETURN_IF_ERROR(i64("meta/series_window", &data.series_window));
  }
  auto name = meta.find("meta/model_name");
  if (name == meta.end() || name->second->type != CheckpointRecordType::kString) {
    return absl::DataLossError(
        absl::StrCat(path, ": the string record 'meta/model_name' is missing"));
  }
  data.model_name.assign(reinterpret_cast<const char*>(name->second->data), name->second->bytes);
  return data;
}

absl::StatusOr<CheckpointData> LoadLatestCheckpoint(const std::string& dir,
                                                    std::vector<std::string>* warnings) {
  RF_ASSIGN_OR_RETURN(std::vector<std::string> files, ListCheckpoints(dir));
  if (files.empty()) {
    return absl::NotFoundError(
        absl::StrCat(dir, ": no checkpoint (ckpt-<step>.rfck) to resume from"));
  }
  std::vector<std::string> problems;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    absl::StatusOr<CheckpointData> data = LoadCheckpoint(*it);
    if (data.ok()) {
      if (warnings != nullptr) {
        for (const std::string& p : problems) {
          warnings->push_back(absl::StrCat("skipped a checkpoint that does not verify: ", p));
        }
      }
      return data;
    }
    problems.emplace_back(data.status().message());
  }
  return absl::DataLossError(
      absl::StrCat(dir, ": no checkpoint verifies:\n  ", absl::StrJoin(problems, "\n  ")));
}

absl::Status RestoreCheckpointTensors(const std::string& path, const std::string& what,
                                      absl::Span<const CheckpointTensor> saved,
                                      absl::Span<const std::string> names,
                                      absl::Span<const Tensor> dst) {
  if (names.size() != dst.size()) {
    return absl::InternalError("RestoreCheckpointTensors: names and tensors differ in count");
  }
  std::map<std::string, const CheckpointTensor*> by_name;
  for (const CheckpointTensor& t : saved) by_name[t.name] = &t;
  for (size_t i = 0; i < dst.size(); ++i) {
    auto it = by_name.find(names[i]);
    if (it == by_name.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": the model has ", what, " '", names[i], "' ", ShapeToString(dst[i].shape()),
          " but the checkpoint does not; was it written for a different model?"));
    }
    const CheckpointTensor& t = *it->second;
    if (t.shape != dst[i].shape()) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": ", what, " '", names[i], "': the model expects shape ",
          ShapeToString(dst[i].shape()), ", the checkpoint has ", ShapeToString(t.shape)));
    }
    if (dst[i].dtype() != FLOAT32 || !dst[i].valid()) {
      return absl::InternalError(absl::StrCat(what, " '", names[i], "' is not a float tensor"));
    }
    if (!t.values.empty()) {
      std::memcpy(dst[i].f32(), t.values.data(), t.values.size() * sizeof(float));
    }
    by_name.erase(it);
  }
  if (!by_name.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": the checkpoint has ", what, " '", by_name.begin()->first, "' ",
                     ShapeToString(by_name.begin()->second->shape),
                     " that the model does not have; was it written for a different model?"));
  }
  return absl::OkStatus();
}

std::vector<CheckpointTensor> SnapshotTensors(absl::Span<const std::string> names,
                                              absl::Span<const Tensor> tensors) {
  std::vector<CheckpointTensor> out;
  out.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    CheckpointTensor t;
    t.name = names[i];
    t.shape = tensors[i].shape();
    t.values.assign(tensors[i].f32(), tensors[i].f32() + tensors[i].num_elements());
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace rnnflow
