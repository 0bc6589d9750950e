#include "rnnflow/dataset/example_sources.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/read_file.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

std::map<std::string, ExampleSourceFactory>& Registry() {
  static auto* registry = new std::map<std::string, ExampleSourceFactory>();
  return *registry;
}

void NoteSkipped(ExampleSourceStats* stats, const std::string& where, bool no_label) {
  if (no_label) {
    ++stats->skipped_no_label;
  } else {
    ++stats->skipped_empty;
  }
  if (stats->first_skipped.empty()) stats->first_skipped = where;
}

// ---- JSON ----------------------------------------------------------------

// A JSON value of a record's field: a scalar (as text) or an array of
// strings.
struct JsonField {
  enum Kind { kString, kNumber, kBool, kNull, kStringArray } kind = kNull;
  std::string text;
  std::vector<std::string> items;
  size_t offset = 0;
};

class JsonParser {
 public:
  JsonParser(const std::string& path, const std::string& s) : path_(path), s_(s) {}

  absl::Status Error(size_t at, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(PositionOf(path_, s_, at), ": ", what));
  }
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  absl::Status Expect(char c, const char* context) {
    SkipSpace();
    if (i_ >= s_.size())
      return Error(
          i_, absl::StrCat("unexpected end of file; expected '", std::string(1, c), "' ", context));
    if (s_[i_] != c) {
      return Error(i_, absl::StrCat("expected '", std::string(1, c), "' ", context, ", found '",
                                    std::string(1, s_[i_]), "'"));
    }
    ++i_;
    return absl::OkStatus();
  }
  bool Peek(char c) {
    SkipSpace();
    return i_ < s_.size() && s_[i_] == c;
  }
  size_t pos() const { return i_; }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  absl::StatusOr<uint32_t> Hex4() {
    if (i_ + 4 > s_.size()) return Error(i_, "a \\u escape needs 4 hex digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_ + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else {
        return Error(i_ + k, "a \\u escape needs 4 hex digits");
      }
    }
    i_ += 4;
    return v;
  }

  absl::StatusOr<std::string> String() {
    RF_RETURN_IF_ERROR(Expect('"', "to start a string"));
    const size_t start = i_ - 1;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) return Error(start, "unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error(i_ - 1, "control character inside a string (escape it)");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return Error(start, "unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          RF_ASSIGN_OR_RETURN(uint32_t cp, Hex4());
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() && s_[i_] == '\\' &&
              s_[i_ + 1] == 'u') {
            i_ += 2;
            RF_ASSIGN_OR_RETURN(uint32_t lo, Hex4());
            if (lo < 0xDC00 || lo >= 0xE000) return Error(i_ - 6, "unpaired UTF-16 surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xD800 && cp < 0xE000) {
            return Error(i_ - 6, "unpaired UTF-16 surrogate");
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          return Error(i_ - 2, absl::StrCat("unknown escape '\\", std::string(1, e), "'"));
      }
    }
  }

  // A number, true, false or null, as text.
  absl::StatusOr<JsonField> Scalar() {
    SkipSpace();
    JsonField f;
    f.offset = i_;
    for (const char* word : {"true", "false", "null"}) {
      const size_t n = std::char_traits<char>::length(word);
      if (s_.compare(i_, n, word) == 0) {
        i_ += n;
        f.kind = word[0] == 'n' ? JsonField::kNull : JsonField::kBool;
        f.text = word;
        return f;
      }
    }
    size_t j = i_;
    if (j < s_.size() && s_[j] == '-') ++j;
    const size_t digits = j;
    while (j < s_.size() && ((s_[j] >= '0' && s_[j] <= '9') || s_[j] == '.' || s_[j] == 'e' ||
                             s_[j] == 'E' || s_[j] == '+' || s_[j] == '-')) {
      ++j;
    }
    if (j == digits || !(s_[digits] >= '0' && s_[digits] <= '9')) {
      return Error(i_,
                   "expected a value (string, number, true, false, null or an array of "
                   "strings)");
    }
    f.kind = JsonField::kNumber;
    f.text = s_.substr(i_, j - i_);
    i_ = j;
    return f;
  }

  absl::StatusOr<JsonField> Field() {
    SkipSpace();
    JsonField f;
    f.offset = i_;
    if (Peek('"')) {
      RF_ASSIGN_OR_RETURN(f.text, String());
      f.kind = JsonField::kString;
      return f;
    }
    if (Peek('[')) {
      ++i_;
      f.kind = JsonField::kStringArray;
      if (Peek(']')) {
        ++i_;
        return f;
      }
      while (true) {
        if (!Peek('"')) return Error(pos(), "arrays inside a record may hold only strings");
        RF_ASSIGN_OR_RETURN(std::string item, String());
        f.items.push_back(std::move(item));
        if (Peek(',')) {
          ++i_;
          continue;
        }
        RF_RETURN_IF_ERROR(Expect(']', "to close the array"));
        return f;
      }
    }
    if (Peek('{')) return Error(pos(), "nested objects are not supported in a record");
    return Scalar();
  }

 private:
  const std::string& path_;
  const std::string& s_;
  size_t i_ = 0;
};

class JsonSource : public ExampleSource {
 public:
  JsonSource(std::string path, ExampleFields fields)
      : path_(std::move(path)), fields_(std::move(fields)) {}

  absl::Status ForEach(const ExampleSink& sink, ExampleSourceStats* stats) override {
    RF_ASSIGN_OR_RETURN(const std::string s, ReadFileToString(path_));
    cursor_ = Cursor();
    JsonParser p(path_, s);
    RF_RETURN_IF_ERROR(p.Expect('[', "to open the array of records"));
    if (p.Peek(']')) {
      RF_RETURN_IF_ERROR(p.Expect(']', ""));
    } else {
      while (true) {
        RF_RETURN_IF_ERROR(Record(p, s, sink, stats));
        if (p.Peek(',')) {
          RF_RETURN_IF_ERROR(p.Expect(',', ""));
          continue;
        }
        RF_RETURN_IF_ERROR(p.Expect(']', "or ',' after a record"));
        break;
      }
    }
    if (!p.AtEnd()) return p.Error(p.pos(), "unexpected text after the array of records");
    return absl::OkStatus();
  }

 private:
  absl::Status Record(JsonParser& p, const std::string& s, const ExampleSink& sink,
                      ExampleSourceStats* stats) {
    const size_t start = (p.Peek('{'), p.pos());
    RF_RETURN_IF_ERROR(p.Expect('{', "to start a record (an object)"));
    std::map<std::string, JsonField> fields;
    if (!p.Peek('}')) {
      while (true) {
        RF_ASSIGN_OR_RETURN(std::string key, p.String());
        RF_RETURN_IF_ERROR(p.Expect(':', "after a field name"));
        RF_ASSIGN_OR_RETURN(JsonField value, p.Field());
        fields[key] = std::move(value);
        if (p.Peek(',')) {
          RF_RETURN_IF_ERROR(p.Expect(',', ""));
          continue;
        }
        break;
      }
    }
    RF_RETURN_IF_ERROR(p.Expect('}', "or ',' inside a record"));
    ++stats->records;
    RawExample ex;
    cursor_.Advance(s, start);
    ex.line = cursor_.line;
    ex.column = static_cast<int64_t>(start - cursor_.line_start) + 1;
    const std::string where = absl::StrCat(path_, ":", ex.line, ":", ex.column);
    auto text = fields.find(fields_.text);
    if (text == fields.end() || text->second.kind == JsonField::kNull) {
      NoteSkipped(stats, where, false);
      return absl::OkStatus();
    }
    if (text->second.kind == JsonField::kStringArray) {
      ex.pre_split = true;
      ex.tokens = text->second.items;
    } else if (text->second.kind == JsonField::kString) {
      ex.text = text->second.text;
    } else {
      return p.Error(text->second.offset, absl::StrCat("field '", fields_.text,
                                                       "' must be a string or an array of "
                                                       "strings"));
    }
    if (ex.pre_split ? ex.tokens.empty() : ex.text.empty()) {
      NoteSkipped(stats, where, false);
      return absl::OkStatus();
    }
    if (!fields_.label.empty()) {
      auto label = fields.find(fields_.label);
      if (label == fields.end() || label->second.kind == JsonField::kNull) {
        NoteSkipped(stats, where, true);
        return absl::OkStatus();
      }
      if (label->second.kind == JsonField::kStringArray) {
        return p.Error(label->second.offset, absl::StrCat("field '", fields_.label,
                                                          "' must be a number, string or "
                                                          "boolean"));
      }
      ex.has_label = true;
      ex.label = label->second.text;
    }
    if (!fields_.tags.empty()) {
      auto tags = fields.find(fields_.tags);
      if (tags == fields.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": the record has no field '", fields_.tags, "' (tags)"));
      }
      if (tags->second.kind == JsonField::kStringArray) {
        ex.tags = tags->second.items;
      } else if (tags->second.kind == JsonField::kString) {
        ex.tags = absl::StrSplit(tags->second.text, ' ', absl::SkipEmpty());
      } else {
        return p.Error(tags->second.offset, "tags must be an array of strings or a string");
      }
    }
    if (!fields_.target.empty()) {
      auto target = fields.find(fields_.target);
      if (target == fields.end() || target->second.kind == JsonField::kNull) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": the record has no field '", fields_.target, "' (target)"));
      }
      ex.has_target = true;
      if (target->second.kind == JsonField::kStringArray) {
        ex.target_pre_split = true;
        ex.target_tokens = target->second.items;
      } else {
        ex.target_text = target->second.text;
      }
    }
    return sink(ex);
  }

  // Line numbers of record starts, found in one forward pass.
  struct Cursor {
    size_t at = 0, line_start = 0;
    int64_t line = 1;
    void Advance(const std::string& s, size_t to) {
      for (; at < to && at < s.size(); ++at) {
        if (s[at] == '\n') {
          ++line;
          line_start = at + 1;
        }
      }
    }
  };

  std::string path_;
  ExampleFields fields_;
  Cursor cursor_;
};

// ---- TSV / CSV ------------------------------------------------------------

class DelimitedSource : public ExampleSource {
 public:
  DelimitedSource(std::string path, ExampleFields fields, char sep)
      : path_(std::move(path)), fields_(std::move(fields)), sep_(sep) {}

  absl::Status ForEach(const ExampleSink& sink, ExampleSourceStats* stats) override {
    RF_ASSIGN_OR_RETURN(const std::string s, ReadFileToString(path_));
    size_t i = 0;
    int64_t line = 1;
    std::vector<std::string> header;
    int text_col = -1, label_col = -1, tags_col = -1, target_col = -1;
    bool first = true;
    while (i < s.size()) {
      const size_t record_start = i;
      const int64_t record_line = line;
      std::vector<std::string> cells;
      std::vector<size_t> cell_offsets;
      RF_RETURN_IF_ERROR(ReadRecord(s, &i, &line, &cells, &cell_offsets));
      if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
      if (first) {
        first = false;
        RF_RETURN_IF_ERROR(ResolveColumns(s, record_start, fields_.header ? &cells : nullptr,
                                          &text_col, &label_col, &tags_col, &target_col));
        if (fields_.header) continue;
      }
      ++stats->records;
      const std::string where = absl::StrCat(path_, ":", record_line, ":1");
      const int needed = std::max({text_col, label_col, tags_col, target_col});
      if (static_cast<int>(cells.size()) <= needed) {
        return absl::InvalidArgumentError(
            absl::StrCat(PositionOf(path_, s, i > 0 ? i - 1 : 0), ": the record has ", cells.size(),
                         " field", cells.size() == 1 ? "" : "s", "; expected at least ", needed + 1,
                         " (separator ", sep_ == '\t' ? "TAB" : "','", ")"));
      }
      RawExample ex;
      ex.line = record_line;
      ex.column = 1;
      ex.text = cells[text_col];
      if (ex.text.empty()) {
        NoteSkipped(stats, where, false);
        continue;
      }
      if (label_col >= 0) {
        if (cells[label_col].empty()) {
          NoteSkipped(stats, where, true);
          continue;
        }
        ex.has_label = true;
        ex.label = cells[label_col];
      }
      if (tags_col >= 0) ex.tags = absl::StrSplit(cells[tags_col], ' ', absl::SkipEmpty());
      if (target_col >= 0) {
        ex.has_target = true;
        ex.target_text = cells[target_col];
      }
      RF_RETURN_IF_ERROR(sink(ex));
    }
    return absl::OkStatus();
  }

 private:
  // One record from s[*i]; quoted fields (csv) may span lines.
  absl::Status ReadRecord(const std::string& s, size_t* i, int64_t* line,
                          std::vector<std::string>* cells, std::vector<size_t>* offsets) {
    cells->emplace_back();
    offsets->push_back(*i);
    size_t& p = *i;
    while (p < s.size()) {
      const char c = s[p];
      if (c == '\n' || (c == '\r' && p + 1 < s.size() && s[p + 1] == '\n')) {
        p += c == '\r' ? 2 : 1;
        ++*line;
        return absl::OkStatus();
      }
      if (c == sep_) {
        ++p;
        cells->emplace_back();
        offsets->push_back(p);
        continue;
      }
      if (sep_ == ',' && c == '"' && cells->back().empty() && offsets->back() == p) {
        const size_t open = p++;
        while (true) {
          if (p >= s.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat(PositionOf(path_, s, open), ": unterminated quoted field"));
          }
          if (s[p] == '"') {
            if (p + 1 < s.size() && s[p + 1] == '"') {
              cells->back() += '"';
              p += 2;
              continue;
            }
            ++p;
            break;
          }
          if (s[p] == '\n') ++*line;
          cells->back() += s[p++];
        }
        if (p < s.size() && s[p] != sep_ && s[p] != '\n' && s[p] != '\r') {
          return absl::InvalidArgumentError(
              absl::StrCat(PositionOf(path_, s, p),
                           ": expected ',' or the end of the line after a quoted "
                           "field"));
        }
        continue;
      }
      if (sep_ == ',' && c == '"') {
        return absl::InvalidArgumentError(
            absl::StrCat(PositionOf(path_, s, p),
                         ": a quote inside an unquoted field (quote the whole field "
                         "and double the quote)"));
      }
      cells->back() += c;
      ++p;
    }
    return absl::OkStatus();
  }

  absl::Status ResolveColumns(const std::string& s, size_t at,
                              const std::vector<std::string>* header, int* text, int* label,
                              int* tags, int* target) {
    auto find = [&](const std::string& name, const char* role, int* col) -> absl::Status {
      if (name.empty()) return absl::OkStatus();
      if (header == nullptr) {
        int n = 0;
        if (!absl::SimpleAtoi(name, &n) || n < 1) {
          return absl::InvalidArgumentError(absl::StrCat(path_, ": without a header row the ", role,
                                                         " field must be a 1-based column "
                                                         "number; got '",
                                                         name, "'"));
        }
        *col = n - 1;
        return absl::OkStatus();
      }
      for (size_t k = 0; k < header->size(); ++k) {
        if ((*header)[k] == name) {
          *col = static_cast<int>(k);
          return absl::OkStatus();
        }
      }
      return absl::InvalidArgumentError(
          absl::StrCat(PositionOf(path_, s, at), ": the header has no column '", name, "' (the ",
                       role, " field); columns: ", absl::StrJoin(*header, ", ")));
    };
    RF_RETURN_IF_ERROR(find(fields_.text, "text", text));
    RF_RETURN_IF_ERROR(find(fields_.label, "label", label));
    RF_RETURN_IF_ERROR(find(fields_.tags, "tags", tags));
    RF_RETURN_IF_ERROR(find(fields_.target, "target", target));
    return absl::OkStatus();
  }

  std::string path_;
  ExampleFields fields_;
  char sep_;
};

bool RegisterBuiltins() {
  RegisterExampleFormat(
      "json",
      [](const std::string& path,
         const ExampleFields& fields) -> absl::StatusOr<std::unique_ptr<ExampleSource>> {
        return std::unique_ptr<ExampleSource>(new JsonSource(path, fields));
      });
  RegisterExampleFormat(
      "tsv",
      [](const std::string& path,
         const ExampleFields& fields) -> absl::StatusOr<std::unique_ptr<ExampleSource>> {
        return std::unique_ptr<ExampleSource>(new DelimitedSource(path, fields, '\t'));
      });
  RegisterExampleFormat(
      "csv",
      [](const std::string& path,
         const ExampleFields& fields) -> absl::StatusOr<std::unique_ptr<ExampleSource>> {
        return std::unique_ptr<ExampleSource>(new DelimitedSource(path, fields, ','));
      });
  return true;
}

const bool kBuiltinsRegistered = RegisterBuiltins();

}  // namespace

void RegisterExampleFormat(const std::string& name, ExampleSourceFactory factory) {
  Registry()[name] = std::move(factory);
}

std::vector<std::string> ExampleFormats() {
  (void)kBuiltinsRegistered;
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

absl::StatusOr<std::unique_ptr<ExampleSource>> OpenExampleSource(const std::string& format,
                                                                 const std::string& path,
                                                                 const ExampleFields& fields) {
  (void)kBuiltinsRegistered;
  auto it = Registry().find(format);
  if (it == Registry().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown example format '", format, "' (known: ",
                                                   absl::StrJoin(ExampleFormats(), ", "), ")"));
  }
  return it->second(path, fields);
}

std::string PositionOf(const std::string& path, const std::string& contents, size_t offset) {
  int64_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < contents.size(); ++i) {
    if (contents[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::StrCat(path, ":", line, ":", offset - line_start + 1);
}

}  // namespace rnnflow
