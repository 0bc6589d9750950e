#include "rnnflow/dataset/cmudict_source.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_sources.h"

namespace rnnflow {
namespace {

bool ValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int more = c < 0x80         ? 0
                     : (c >> 5) == 6  ? 1
                     : (c >> 4) == 14 ? 2
                     : (c >> 3) == 30 ? 3
                                      : -1;
    if (more < 0 || i + more >= s.size() + (more == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= more; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += 1 + more;
  }
  return true;
}

std::string Latin1ToUtf8(absl::string_view s) {
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

class CmudictSource : public ExampleSource {
 public:
  CmudictSource(std::string path, bool keep_stress)
      : path_(std::move(path)), keep_stress_(keep_stress) {}

  absl::Status ForEach(const ExampleSink& sink, ExampleSourceStats* stats) override {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(path_, ": cannot open"));
    std::string raw;
    int64_t line_no = 0;
    while (std::getline(in, raw)) {
      ++line_no;
      if (!raw.empty() && raw.back() == '\r') raw.pop_back();
      const std::string line = ValidUtf8(raw) ? raw : Latin1ToUtf8(raw);
      if (absl::StripAsciiWhitespace(line).empty() || absl::StartsWith(line, ";;;")) continue;
      ++stats->records;
      CmudictEntry entry;
      int64_t column = 1;
      if (absl::Status s = ParseCmudictLine(line, keep_stress_, &entry, &column); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ":", line_no, ":", column, ": ", s.message()));
      }
      RawExample ex;
      ex.line = line_no;
      ex.column = 1;
      ex.text = std::move(entry.word);
      ex.has_target = true;
      ex.target_pre_split = true;
      ex.target_tokens = std::move(entry.phonemes);
      RF_RETURN_IF_ERROR(sink(ex));
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
  bool keep_stress_;
};

absl::StatusOr<std::unique_ptr<ExampleSource>> Open(const std::string& path,
                                                    const ExampleFields& fields, bool keep_stress) {
  if (!fields.label.empty() || fields.target.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": the cmudict format reads (word, pronunciation) pairs without labels: "
                     "leave ExampleFields::label empty and name ExampleFields::target "
                     "(e.g. \"phonemes\")"));
  }
  return std::unique_ptr<ExampleSource>(new CmudictSource(path, keep_stress));
}

const bool kRegistered = [] {
  RegisterExampleFormat("cmudict", [](const std::string& path, const ExampleFields& fields) {
    return Open(path, fields, /*keep_stress=*/false);
  });
  RegisterExampleFormat("cmudict-stress", [](const std::string& path, const ExampleFields& fields) {
    return Open(path, fields, /*keep_stress=*/true);
  });
  return true;
}();

}  // namespace

absl::Status ParseCmudictLine(absl::string_view line, bool keep_stress, CmudictEntry* entry,
                              int64_t* column) {
  (void)kRegistered;
  *entry = CmudictEntry();
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 0;
  if (line.empty() || is_space(line[0])) {
    *column = 1;
    return absl::InvalidArgumentError("expected a word at the start of the line");
  }
  while (i < line.size() && !is_space(line[i])) ++i;
  absl::string_view word = line.substr(0, i);
  // A trailing (n) marks an alternate pronunciation; "(" elsewhere is part of
  // the word.
  if (!word.empty() && word.back() == ')') {
    const size_t open = word.rfind('(');
    if (open == absl::string_view::npos || open == 0) {
      *column = static_cast<int64_t>(word.size());
      return absl::InvalidArgumentError(absl::StrCat(
          "word '", word, "' ends in ')' without an alternate number '(n)' before it"));
    }
    int n = 0;
    if (!absl::SimpleAtoi(word.substr(open + 1, word.size() - open - 2), &n) || n < 1) {
      *column = static_cast<int64_t>(open + 2);
      return absl::InvalidArgumentError(
          absl::StrCat("alternate pronunciation suffix of '", word, "' must be '(n)' with n >= 1"));
    }
    entry->alternate = n;
    word = word.substr(0, open);
  } else if (word.find('(') != absl::string_view::npos &&
             word.find(')') == absl::string_view::npos) {
    *column = static_cast<int64_t>(word.find('(') + 1);
    return absl::InvalidArgumentError(
        absl::StrCat("unterminated alternate suffix in '", word, "' (expected WORD(n))"));
  }
  entry->word = std::string(word);
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    const size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    absl::string_view ph = line.substr(start, i - start);
    size_t letters = 0;
    while (letters < ph.size() && absl::ascii_isupper(static_cast<unsigned char>(ph[letters]))) {
      ++letters;
    }
    const bool stress = letters + 1 == ph.size() && ph[letters] >= '0' && ph[letters] <= '2';
    if (letters == 0 || (letters != ph.size() && !stress)) {
      *column = static_cast<int64_t>(start + 1);
      return absl::InvalidArgumentError(
          absl::StrCat("phoneme '", ph,
                       "' is not an ARPAbet symbol (capital letters, optionally one stress "
                       "digit 0-2)"));
    }
    entry->phonemes.emplace_back(keep_stress ? ph : ph.substr(0, letters));
  }
  if (entry->phonemes.empty()) {
    *column = static_cast<int64_t>(line.size() + 1);
    return absl::InvalidArgumentError(
        absl::StrCat("word '", entry->word, "' has no phonemes (expected WORD  PH1 PH2 ...)"));
  }
  return absl::OkStatus();
}

}  // namespace rnnflow
