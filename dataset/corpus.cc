#include "rnnflow/dataset/corpus.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/internal/data_io.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {
namespace {

constexpr const char* kSplitNames[3] = {"train", "valid", "test"};
// Code points below this are counted and mapped through flat arrays; the
// rest (rare in most corpora) through hash maps.
constexpr uint32_t kSmallCodePoints = 0x800;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string EncodeUtf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Decodes UTF-8 fed in blocks (a character may straddle two blocks) and
// rejects everything RFC 3629 forbids: stray continuation bytes, C0/C1 and
// F5..FF lead bytes, overlong forms, surrogates, code points > U+10FFFF and
// truncated sequences.
class Utf8Decoder {
 public:
  // Calls emit(code_point, offset_of_first_byte) for every complete
  // character of the block that starts at file offset `base`. Returns false
  // on malformed input (see error_offset() and error()).
  template <typename Emit>
  bool Feed(const uint8_t* p, size_t n, int64_t base, Emit&& emit) {
    for (size_t i = 0; i < n; ++i) {
      const uint8_t b = p[i];
      if (need_ == 0) {
        if (b < 0x80) {
          emit(static_cast<uint32_t>(b), base + static_cast<int64_t>(i));
          continue;
        }
        start_ = base + static_cast<int64_t>(i);
        lead_ = b;
        lo_ = 0x80;
        hi_ = 0xBF;
        if (b < 0xC0) {
          return Fail(absl::StrFormat("unexpected continuation byte 0x%02x", b));
        } else if (b < 0xC2) {
          return Fail(absl::StrFormat("byte 0x%02x starts an overlong encoding", b));
        } else if (b < 0xE0) {
          need_ = 1;
          cp_ = b & 0x1F;
        } else if (b < 0xF0) {
          need_ = 2;
          cp_ = b & 0x0F;
          if (b == 0xE0) lo_ = 0xA0;  // overlong
          if (b == 0xED) hi_ = 0x9F;  // surrogates
        } else if (b < 0xF5) {
          need_ = 3;
          cp_ = b & 0x07;
          if (b == 0xF0) lo_ = 0x90;  // overlong
          if (b == 0xF4) hi_ = 0x8F;  // > U+10FFFF
        } else {
          return Fail(absl::StrFormat("byte 0x%02x cannot start a character", b));
        }
        continue;
      }
      if (b < lo_ || b > hi_) {
        if ((b & 0xC0) == 0x80) {
          return Fail(absl::StrFormat(
              "the sequence 0x%02x 0x%02x... is an overlong form, a surrogate or beyond "
              "U+10FFFF",
              lead_, b));
        }
        return Fail(
            absl::StrFormat("the character starting with byte 0x%02x is cut short by "
                            "byte 0x%02x",
                            lead_, b));
      }
      cp_ = (cp_ << 6) | (b & 0x3F);
      lo_ = 0x80;
      hi_ = 0xBF;
      if (--need_ == 0) emit(cp_, start_);
    }
    return true;
  }
  // At the end of the input: false if it ends inside a character.
  bool Finish() {
    if (need_ == 0) return true;
    return Fail(
        absl::StrFormat("the file ends inside the character starting with byte 0x%02x", lead_));
  }
  int64_t error_offset() const { return start_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string reason) {
    error_ = std::move(reason);
    return false;
  }
  uint32_t cp_ = 0;
  int need_ = 0;
  int64_t start_ = 0;
  uint8_t lead_ = 0, lo_ = 0x80, hi_ = 0xBF;
  std::string error_;
};

absl::Status Utf8Error(const std::string& path, const Utf8Decoder& d) {
  auto pos = LocateOffset(path, d.error_offset());
  if (!pos.ok()) return pos.status();
  return absl::InvalidArgumentError(absl::StrCat(path, ":", pos->line, ":", pos->column,
                                                 ": invalid UTF-8 at byte offset ",
                                                 d.error_offset(), ": ", d.error()));
}

// A token file being written: placeholder header, tokens, header patched on
// commit. Put() is on the per-character path, so it only stores into a
// buffer; write errors surface from the next Flush()/Commit().
class TokenWriter {
 public:
  absl::Status Open(const std::string& path, int width, int64_t vocab_size, int64_t buffer_bytes) {
    width_ = width;
    vocab_size_ = vocab_size;
    buffer_.resize(static_cast<size_t>(std::max<int64_t>(buffer_bytes, 64)));
    RF_RETURN_IF_ERROR(writer_.Open(path, 4096));  // Put() buffers; PutBytes() writes blocks
    const char zeros[sizeof(TokenFileHeader)] = {};
    return writer_.Write(zeros, sizeof(zeros));
  }
  void Put(uint32_t id) {
    char* p = buffer_.data() + used_;
    switch (width_) {
      case 1:
        *p = static_cast<char>(id);
        break;
      case 2: {
        const uint16_t v = static_cast<uint16_t>(id);
        std::memcpy(p, &v, 2);
        break;
      }
      default:
        std::memcpy(p, &id, 4);
    }
    used_ += static_cast<size_t>(width_);
    ++count_;
    if (used_ + 4 > buffer_.size()) Flush();
  }
  // Byte level: the bytes are the ids.
  absl::Status PutBytes(const char* p, size_t n) {
    count_ += static_cast<int64_t>(n);
    return writer_.Write(p, n);
  }
  absl::Status status() const { return status_; }
  absl::Status Commit() {
    Flush();
    RF_RETURN_IF_ERROR(status_);
    TokenFileHeader h;
    std::memcpy(h.magic, kTokenFileMagic, sizeof(h.magic));
    h.version = kTokenFileVersion;
    h.token_width = static_cast<uint32_t>(width_);
    h.count = static_cast<uint64_t>(count_);
    h.vocab_size = static_cast<uint32_t>(vocab_size_);
    h.reserved = 0;
    return writer_.Commit(absl::string_view(reinterpret_cast<const char*>(&h), sizeof(h)));
  }
  int64_t count() const { return count_; }

 private:
  void Flush() {
    if (used_ > 0 && status_.ok()) status_ = writer_.Write(buffer_.data(), used_);
    used_ = 0;
  }
  BlockWriter writer_;
  std::vector<char> buffer_;
  size_t used_ = 0;
  absl::Status status_;
  int width_ = 1;
  int64_t vocab_size_ = 0;
  int64_t count_ = 0;
};

int WidthFor(int64_t vocab_size) {
  if (vocab_size <= 256) return 1;
  if (vocab_size <= 65536) return 2;
  return 4;
}

std::string MetaJson(const TextPrepareReport& r, const TextPrepareOptions& o) {
  std::string s = "{\n";
  absl::StrAppend(&s, "  \"format\": \"rnnflow-prepared-text\",\n");
  absl::StrAppend(&s, "  \"format_version\": 1,\n");
  absl::StrAppend(&s, "  \"source\": ", JsonQuote(r.source), ",\n");
  absl::StrAppend(&s, "  \"source_bytes\": ", r.input_bytes, ",\n");
  absl::StrAppend(&s, "  \"level\": \"", TextLevelName(r.level), "\",\n");
  absl::StrAppend(&s, "  \"vocab_size\": ", r.vocab_size, ",\n");
  absl::StrAppend(&s, "  \"unk_id\": ", r.unk_id, ",\n");
  absl::StrAppend(&s, "  \"min_count\": ", o.min_count, ",\n");
  absl::StrAppend(&s, "  \"token_width\": ", r.token_width, ",\n");
  absl::StrAppend(&s, "  \"valid_fraction\": ", o.valid_fraction, ",\n");
  absl::StrAppend(&s, "  \"test_fraction\": ", o.test_fraction, ",\n");
  absl::StrAppend(&s, "  \"splits\": {\n");
  for (int i = 0; i < 3; ++i) {
    const SplitSummary& sp = r.splits[i];
    absl::StrAppend(&s, "    \"", sp.name, "\": {\"file\": \"", sp.name,
                    ".tok\", \"begin_byte\": ", sp.begin_byte, ", \"end_byte\": ", sp.end_byte,
                    ", \"tokens\": ", sp.tokens, ", \"unknown\": ", sp.unknown, "}",
                    i < 2 ? ",\n" : "\n");
  }
  absl::StrAppend(&s, "  }\n}\n");
  return s;
}

absl::Status WriteVocab(const std::string& dir, const std::vector<std::string>& tokens,
                        const std::vector<int64_t>& counts, int64_t unk_id, TextLevel level) {
  std::string text = "id\ttoken\tcount\n";
  for (size_t i = 0; i < tokens.size(); ++i) {
    absl::StrAppend(&text, i, "\t",
                    static_cast<int64_t>(i) == unk_id ? "<unk>" : EscapeToken(tokens[i], level),
                    "\t", counts[i], "\n");
  }
  return WriteSmallFile(dir + "/vocab.tsv", text);
}

// Which split a byte offset belongs to.
struct SplitBounds {
  int64_t train_end, valid_end;
  int Of(int64_t offset) const { return offset < train_end ? 0 : offset < valid_end ? 1 : 2; }
};

absl::Status PrepareBytes(const std::string& input, const std::string& out_dir,
                          const TextPrepareOptions& o, const SplitBounds& bounds,
                          BlockReader& reader, TextPrepareReport& r) {
  TokenWriter writers[3];
  for (int i = 0; i < 3; ++i) {
    RF_RETURN_IF_ERROR(
        writers[i].Open(absl::StrCat(out_dir, "/", kSplitNames[i], ".tok"), 1, 256, o.block_bytes));
  }
  int64_t hist[4][256] = {};
  int64_t base = 0;
  for (;;) {
    RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    if (block.empty()) break;
    const int64_t end = base + static_cast<int64_t>(block.size());
    int64_t at = base;
    while (at < end) {
      const int s = bounds.Of(at);
      const int64_t limit = std::min(end, s == 0   ? bounds.train_end
                                          : s == 1 ? bounds.valid_end
                                                   : end);
      const char* p = block.data() + (at - base);
      const size_t n = static_cast<size_t>(limit - at);
      if (s == 0) {
        const uint8_t* u = reinterpret_cast<const uint8_t*>(p);
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
          ++hist[0][u[i]];
          ++hist[1][u[i + 1]];
          ++hist[2][u[i + 2]];
          ++hist[3][u[i + 3]];
        }
        for (; i < n; ++i) ++hist[0][u[i]];
      }
      RF_RETURN_IF_ERROR(writers[s].PutBytes(p, n));
      at = limit;
    }
    base = end;
  }
  if (base != reader.size()) {
    return absl::DataLossError(absl::StrCat(input, ": the file changed size while being read (",
                                            reader.size(), " -> ", base, " bytes)"));
  }
  std::vector<std::string> tokens(256);
  std::vector<int64_t> counts(256);
  for (int b = 0; b < 256; ++b) {
    tokens[b] = std::string(1, static_cast<char>(b));
    counts[b] = hist[0][b] + hist[1][b] + hist[2][b] + hist[3][b];
  }
  RF_RETURN_IF_ERROR(WriteVocab(out_dir, tokens, counts, -1, TextLevel::kByte));
  for (int i = 0; i < 3; ++i) {
    r.splits[i].tokens = writers[i].count();
    RF_RETURN_IF_ERROR(writers[i].Commit());
  }
  r.vocab_size = 256;
  r.unk_id = -1;
  r.token_width = 1;
  r.passes = 1;
  return absl::OkStatus();
}

absl::Status PrepareChars(const std::string& input, const std::string& out_dir,
                          const TextPrepareOptions& o, const SplitBounds& bounds,
                          BlockReader& reader, TextPrepareReport& r) {
  // Pass 1: validate, count train characters and characters per split.
  std::vector<int64_t> small(kSmallCodePoints, 0);
  absl::flat_hash_map<uint32_t, int64_t> large;
  int64_t per_split[3] = {0, 0, 0};
  {
    Utf8Decoder decoder;
    int64_t base = 0;
    auto count = [&](uint32_t cp, int64_t offset) {
      const int s = bounds.Of(offset);
      ++per_split[s];
      if (s != 0) return;
      if (cp < kSmallCodePoints) {
        ++small[cp];
      } else {
        ++large[cp];
      }
    };
    for (;;) {
      RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
      if (block.empty()) break;
      if (!decoder.Feed(reinterpret_cast<const uint8_t*>(block.data()), block.size(), base,
                        count)) {
        return Utf8Error(input, decoder);
      }
      base += static_cast<int64_t>(block.size());
    }
    if (!decoder.Finish()) return Utf8Error(input, decoder);
  }
  if (per_split[0] == 0) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": the train split has no characters"));
  }

  // The vocabulary: most frequent first, ties by code point, <unk> last.
  std::vector<std::pair<int64_t, uint32_t>> entries;  // (count, code point)
  int64_t rare = 0;
  auto consider = [&](uint32_t cp, int64_t n) {
    if (n == 0) return;
    if (n >= o.min_count) {
      entries.push_back({n, cp});
    } else {
      rare += n;
    }
  };
  for (uint32_t cp = 0; cp < kSmallCodePoints; ++cp) consider(cp, small[cp]);
  for (const auto& [cp, n] : large) consider(cp, n);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  const int64_t vocab_size = static_cast<int64_t>(entries.size()) + 1;
  const uint32_t unk = static_cast<uint32_t>(entries.size());
  std::vector<uint32_t> small_id(kSmallCodePoints, unk);
  absl::flat_hash_map<uint32_t, uint32_t> large_id;
  std::vector<std::string> tokens;
  std::vector<int64_t> counts;
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint32_t cp = entries[i].second;
    if (cp < kSmallCodePoints) {
      small_id[cp] = static_cast<uint32_t>(i);
    } else {
      large_id[cp] = static_cast<uint32_t>(i);
    }
    tokens.push_back(EncodeUtf8(cp));
    counts.push_back(entries[i].first);
  }
  tokens.push_back("<unk>");
  counts.push_back(rare);
  small.clear();
  small.shrink_to_fit();
  large.clear();
  RF_RETURN_IF_ERROR(WriteVocab(out_dir, tokens, counts, unk, TextLevel::kChar));

  // Pass 2: encode.
  const int width = WidthFor(vocab_size);
  TokenWriter writers[3];
  for (int i = 0; i < 3; ++i) {
    RF_RETURN_IF_ERROR(writers[i].Open(absl::StrCat(out_dir, "/", kSplitNames[i], ".tok"), width,
                                       vocab_size, o.block_bytes));
  }
  BlockReader again;
  RF_RETURN_IF_ERROR(again.Open(input, o.block_bytes));
  Utf8Decoder decoder;
  int64_t unknown[3] = {0, 0, 0};
  auto encode = [&](uint32_t cp, int64_t offset) {
    uint32_t id;
    if (cp < kSmallCodePoints) {
      id = small_id[cp];
    } else {
      auto it = large_id.find(cp);
      id = it == large_id.end() ? unk : it->second;
    }
    const int s = bounds.Of(offset);
    if (id == unk) ++unknown[s];
    writers[s].Put(id);
  };
  int64_t base = 0;
  for (;;) {
    RF_ASSIGN_OR_RETURN(absl::string_view block, again.Next());
    if (block.empty()) break;
    if (!decoder.Feed(reinterpret_cast<const uint8_t*>(block.data()), block.size(), base, encode)) {
      return Utf8Error(input, decoder);
    }
    for (const TokenWriter& w : writers) RF_RETURN_IF_ERROR(w.status());
    base += static_cast<int64_t>(block.size());
  }
  if (!decoder.Finish()) return Utf8Error(input, decoder);
  for (int i = 0; i < 3; ++i) {
    if (writers[i].count() != per_split[i]) {
      return absl::DataLossError(absl::StrCat(input, ": the file changed while being read (",
                                              kSplitNames[i], ": ", per_split[i],
                                              " characters, then ", writers[i].count(), ")"));
    }
    r.splits[i].tokens = writers[i].count();
    r.splits[i].unknown = unknown[i];
    RF_RETURN_IF_ERROR(writers[i].Commit());
  }
  r.vocab_size = vocab_size;
  r.unk_id = unk;
  r.token_width = width;
  r.passes = 2;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TextLevel> ParseTextLevel(const std::string& name) {
  if (name == "byte") return TextLevel::kByte;
  if (name == "char") return TextLevel::kChar;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown text level '", name, "' (expected byte or char)"));
}

const char* TextLevelName(TextLevel level) { return level == TextLevel::kByte ? "byte" : "char"; }

absl::StatusOr<TextPrepareReport> PrepareText(const std::string& input, const std::string& out_dir,
                                              const TextPrepareOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const double v = options.valid_fraction, t = options.test_fraction;
  RF_RETURN_IF_ERROR(CheckSplitFractions("TextPrepareOptions", v, t));
  if (options.min_count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TextPrepareOptions::min_count must be >= 1; got ", options.min_count));
  }
  BlockReader reader;
  RF_RETURN_IF_ERROR(reader.Open(input, options.block_bytes));
  const int64_t size = reader.size();
  SplitBounds bounds;
  bounds.train_end = SplitPoint(size, 1 - v - t);
  bounds.valid_end = std::max(bounds.train_end, SplitPoint(size, 1 - t));
  if (bounds.train_end < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(input, ": ", size, " bytes leave nothing for the train split"));
  }
  RF_RETURN_IF_ERROR(MakeDirectories(out_dir));

  TextPrepareReport r;
  r.source = input;
  r.out_dir = out_dir;
  r.level = options.level;
  r.input_bytes = size;
  const int64_t begins[3] = {0, bounds.train_end, bounds.valid_end};
  const int64_t ends[3] = {bounds.train_end, bounds.valid_end, size};
  for (int i = 0; i < 3; ++i) {
    r.splits[i].name = kSplitNames[i];
    r.splits[i].begin_byte = begins[i];
    r.splits[i].end_byte = ends[i];
  }
  if (options.level == TextLevel::kByte) {
    RF_RETURN_IF_ERROR(PrepareBytes(input, out_dir, options, bounds, reader, r));
  } else {
    RF_RETURN_IF_ERROR(PrepareChars(input, out_dir, options, bounds, reader, r));
  }
  RF_RETURN_IF_ERROR(WriteSmallFile(out_dir + "/meta.json", MetaJson(r, options)));
  r.seconds = Seconds(start);
  r.mb_per_second = r.seconds > 0 ? static_cast<double>(size) / 1e6 / r.seconds : 0;
  r.peak_rss_bytes = PeakRssBytes();
  return r;
}

std::string EscapeToken(const std::string& token, TextLevel level) {
  std::string out;
  for (char ch : token) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c <= 0x20 || c == 0x7F || (c >= 0x80 && level == TextLevel::kByte)) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += ch;
    }
  }
  return out;
}

absl::StatusOr<std::string> UnescapeToken(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) return absl::InvalidArgumentError("a lone '\\' at the end");
    const char e = text[++i];
    if (e == '\\') {
      out += '\\';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 'x' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown escape '\\", std::string(1, e),
                                                     "' (expected \\\\, \\t, \\n, "
                                                     "\\r or \\xHH)"));
    }
  }
  return out;
}

absl::StatusOr<Vocabulary> ReadVocabulary(const std::string& dir) {
  const std::string path = dir + "/vocab.tsv";
  BlockReader reader;
  RF_RETURN_IF_ERROR(reader.Open(path));
  std::string text;
  for (;;) {
    RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    if (block.empty()) break;
    text.append(block.data(), block.size());
  }
  Vocabulary vocab;
  int64_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty() || (line_no == 1 && line == "id\ttoken\tcount")) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 3) {
      return absl::DataLossError(absl::StrCat(path, ":", line_no,
                                              ":1: expected 3 tab-separated "
                                              "fields (id, token, count); got ",
                                              f.size()));
    }
    int64_t id = -1, count = 0;
    if (!absl::SimpleAtoi(f[0], &id) || id != static_cast<int64_t>(vocab.tokens.size())) {
      return absl::DataLossError(absl::StrCat(path, ":", line_no, ":1: expected id ",
                                              vocab.tokens.size(), "; got \"", f[0], "\""));
    }
    const int64_t token_column = static_cast<int64_t>(f[0].size()) + 2;
    if (!absl::SimpleAtoi(f[2], &count)) {
      return absl::DataLossError(absl::StrCat(path, ":", line_no, ":",
                                              token_column + static_cast<int64_t>(f[1].size()) + 1,
                                              ": expected a count; got \"", f[2], "\""));
    }
    if (f[1] == "<unk>") {
      vocab.unk_id = id;
      vocab.tokens.push_back("<unk>");
    } else {
      auto token = UnescapeToken(f[1]);
      if (!token.ok()) {
        return absl::DataLossError(
            absl::StrCat(path, ":", line_no, ":", token_column, ": ", token.status().message()));
      }
      vocab.tokens.push_back(*std::move(token));
    }
    vocab.counts.push_back(count);
  }
  return vocab;
}

}  // namespace rnnflow
