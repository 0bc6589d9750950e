#include "rnnflow/dataset/example_text.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rnnflow/dataset/corpus.h"
#include "rnnflow/dataset/internal/data_io.h"

namespace rnnflow {
namespace {

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Length of the UTF-8 character starting at s[i], or 0 when malformed.
size_t Utf8Length(absl::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// strip_html and lowercase applied to the whole text.
std::string Normalize(absl::string_view text, const TextRules& rules) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (rules.strip_html && c == '<') {
      size_t j = i + 1;
      while (j < text.size() && j - i <= 64 && text[j] != '>' && text[j] != '<') ++j;
      if (j < text.size() && j - i <= 64 && text[j] == '>') {
        out += ' ';
        i = j;
        continue;
      }
    }
    if (rules.lowercase && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += c;
  }
  return out;
}

}  // namespace

absl::StatusOr<TokenLevel> ParseTokenLevel(const std::string& name) {
  if (name == "word") return TokenLevel::kWord;
  if (name == "char") return TokenLevel::kChar;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown token level '", name, "' (expected word or char)"));
}

const char* TokenLevelName(TokenLevel level) {
  return level == TokenLevel::kWord ? "word" : "char";
}

std::string NormalizeToken(absl::string_view token, const TextRules& rules) {
  TextRules r = rules;
  r.strip_html = false;
  return Normalize(token, r);
}

absl::StatusOr<std::vector<std::string>> Tokenize(absl::string_view raw, const TextRules& rules,
                                                  int64_t* bad_offset) {
  // Offsets into the normalised text differ from the raw text's only when
  // tags are stripped; errors then point at the normalised position.
  const std::string text = Normalize(raw, rules);
  std::vector<std::string> tokens;
  const size_t n = text.size();
  if (rules.level == TokenLevel::kChar) {
    bool pending_space = false;
    for (size_t i = 0; i < n;) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      if (IsSpace(c)) {
        pending_space = !tokens.empty();
        ++i;
        continue;
      }
      const size_t len = Utf8Length(text, i);
      if (len == 0) {
        if (bad_offset != nullptr) *bad_offset = static_cast<int64_t>(i);
        return absl::InvalidArgumentError(
            absl::StrCat("invalid UTF-8 at byte ", i, " of the text"));
      }
      if (pending_space) tokens.emplace_back(" ");
      pending_space = false;
      tokens.emplace_back(text.substr(i, len));
      i += len;
    }
    return tokens;
  }
  for (size_t i = 0; i < n;) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsSpace(c)) {
      ++i;
    } else if (IsWordChar(c)) {
      size_t j = i + 1;
      while (j < n) {
        const unsigned char d = static_cast<unsigned char>(text[j]);
        if (IsWordChar(d)) {
          ++j;
        } else if (d == '\'' && j + 1 < n && IsWordChar(static_cast<unsigned char>(text[j + 1]))) {
          j += 2;
        } else {
          break;
        }
      }
      tokens.emplace_back(text.substr(i, j - i));
      i = j;
    } else {
      tokens.emplace_back(1, static_cast<char>(c));
      ++i;
    }
  }
  return tokens;
}

ExampleVocab ExampleVocab::Build(const absl::flat_hash_map<std::string, int64_t>& counts,
                                 int64_t min_count, int64_t max_vocab) {
  std::vector<std::pair<std::string, int64_t>> sorted;
  int64_t unknown = 0;
  for (const auto& [token, count] : counts) {
    if (count >= min_count) {
      sorted.emplace_back(token, count);
    } else {
      unknown += count;
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (max_vocab > 2 && static_cast<int64_t>(sorted.size()) > max_vocab - 2) {
    for (size_t i = max_vocab - 2; i < sorted.size(); ++i) unknown += sorted[i].second;
    sorted.resize(max_vocab - 2);
  }
  ExampleVocab v;
  v.specials_ = true;
  v.tokens_ = {"<pad>", "<unk>"};
  v.counts_ = {0, unknown};
  for (auto& [token, count] : sorted) {
    v.ids_[token] = static_cast<int32_t>(v.tokens_.size());
    v.tokens_.push_back(token);
    v.counts_.push_back(count);
  }
  return v;
}

ExampleVocab ExampleVocab::FromNames(const std::vector<std::string>& names) {
  ExampleVocab v;
  for (const std::string& name : names) {
    v.ids_[name] = static_cast<int32_t>(v.tokens_.size());
    v.tokens_.push_back(name);
    v.counts_.push_back(0);
  }
  return v;
}

int32_t ExampleVocab::Find(const std::string& token, int32_t fallback) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? fallback : it->second;
}

absl::Status ExampleVocab::Write(const std::string& path) const {
  std::string text = "id\ttoken\tcount\n";
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const bool special = specials_ && i < 2;
    absl::StrAppend(&text, i, "\t",
                    special ? tokens_[i] : EscapeToken(tokens_[i], TextLevel::kChar), "\t",
                    counts_[i], "\n");
  }
  return WriteSmallFile(path, text);
}

absl::StatusOr<ExampleVocab> ExampleVocab::Read(const std::string& path, bool specials) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  std::getline(in, line);
  if (line != "id\ttoken\tcount") {
    return absl::DataLossError(
        absl::StrCat(path, ":1:1: expected the header `id<TAB>token<TAB>count`"));
  }
  ExampleVocab v;
  v.specials_ = specials;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    int64_t id = -1, count = 0;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &id) || !absl::SimpleAtoi(f[2], &count) ||
        id != v.size()) {
      return absl::DataLossError(
          absl::StrCat(path, ":", line_no, ":1: expected `", v.size(), "<TAB>token<TAB>count`"));
    }
    std::string token = f[1];
    if (!(specials && id < 2)) {
      auto t = UnescapeToken(f[1]);
      if (!t.ok()) {
        return absl::DataLossError(
            absl::StrCat(path, ":", line_no, ":", f[0].size() + 2, ": ", t.status().message()));
      }
      token = *t;
      v.ids_[token] = static_cast<int32_t>(id);
    }
    v.tokens_.push_back(token);
    v.counts_.push_back(count);
  }
  if (specials && v.size() < 2) {
    return absl::DataLossError(absl::StrCat(path, ": fewer than the 2 special tokens"));
  }
  return v;
}

}  // namespace rnnflow
