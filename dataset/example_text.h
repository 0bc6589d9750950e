// How text becomes token ids for labelled examples: the tokenising rules of
// `rnnflow prepare examples` and of `rnnflow predict`, which must agree, and
// the example vocabularies (vocab.tsv, labels.tsv, tags.tsv).
//
// Tokenising (TextRules):
//   - `strip_html`: every `<...>` tag (no `<` or `>` inside, at most 64
//     bytes) becomes a space (IMDB's `<br />`).
//   - `lowercase`: ASCII A-Z become a-z (other characters are kept).
//   - word level: whitespace (space, tab, CR, LF, FF, VT) separates; a word
//     is a maximal run of ASCII letters and digits, bytes >= 0x80 (so UTF-8
//     letters stay inside words) and apostrophes that have a word character
//     on both sides ("don't" is one word, "'quoted'" gives ' quoted ');
//     every other ASCII character (punctuation, symbols) is a token alone.
//   - char level: every UTF-8 character is a token; whitespace runs become
//     one space and leading/trailing whitespace is dropped.
//   Malformed UTF-8 is kept byte by byte (word level) or is an error
//   (char level), reported by the reader with its line and column.
//
// Vocabulary files: header `id<TAB>token<TAB>count`, one row per id, tokens
// escaped as in dataset/corpus.h. Token vocabularies start with id 0 <pad>
// and id 1 <unk>, then the train split's tokens seen >= min_count times,
// most frequent first (ties by byte order), at most max_vocab ids in all.
// labels.tsv / tags.tsv have no specials: the names in id order.
#ifndef RNNFLOW_DATASET_EXAMPLE_TEXT_H_
#define RNNFLOW_DATASET_EXAMPLE_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rnnflow {

enum class TokenLevel { kWord, kChar };

struct TextRules {
  TokenLevel level = TokenLevel::kWord;
  bool lowercase = false;
  bool strip_html = false;
};

absl::StatusOr<TokenLevel> ParseTokenLevel(const std::string& name);
const char* TokenLevelName(TokenLevel level);

// Splits `text` into tokens by `rules`. Char level: InvalidArgument for
// malformed UTF-8, with the 0-based byte offset in `*bad_offset`.
absl::StatusOr<std::vector<std::string>> Tokenize(absl::string_view text, const TextRules& rules,
                                                  int64_t* bad_offset = nullptr);
// `lowercase` applied to one pre-split token.
std::string NormalizeToken(absl::string_view token, const TextRules& rules);

inline constexpr int32_t kPadId = 0;
inline constexpr int32_t kUnkId = 1;

// An id <-> token mapping with counts.
class ExampleVocab {
 public:
  // Token vocabulary from train-split counts (<pad>, <unk>, then tokens).
  static ExampleVocab Build(const absl::flat_hash_map<std::string, int64_t>& counts,
                            int64_t min_count, int64_t max_vocab);
  // A name list without specials (labels, tags), ids in the given order.
  static ExampleVocab FromNames(const std::vector<std::string>& names);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::string& token(int64_t id) const { return tokens_[id]; }
  // The id of a token; `fallback` when absent (kUnkId for tokens).
  int32_t Find(const std::string& token, int32_t fallback) const;
  bool has_specials() const { return specials_; }
  void AddCount(int32_t id, int64_t n) { counts_[id] += n; }

  absl::Status Write(const std::string& path) const;
  // Reads a file written by Write; `specials`: ids 0 and 1 are <pad>/<unk>.
  static absl::StatusOr<ExampleVocab> Read(const std::string& path, bool specials);

 private:
  std::vector<std::string> tokens_;
  std::vector<int64_t> counts_;
  absl::flat_hash_map<std::string, int32_t> ids_;
  bool specials_ = false;
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_EXAMPLE_TEXT_H_
