// Text corpus preparation (`rnnflow prepare text`): streams a text file in
// blocks (memory does not grow with the corpus), builds a vocabulary and
// writes the tokens of three splits taken by position.
//
// Output directory:
//   vocab.tsv   header `id<TAB>token<TAB>count`, then one row per id. The token
//               is escaped text: `\\`, `\t`, `\n`, `\r`, and `\xHH` for other
//               control bytes, space, DEL and (byte level) bytes >= 0x80;
//               characters >= U+0080 (char level) are written as UTF-8. The
//               unknown token is written `<unk>`. count = occurrences in the
//               train split (for <unk>: train characters below --min-count).
//   train.tok, valid.tok, test.tok
//               token files, format in dataset/token_streams.h (magic
//               RNFTOKEN, version, width 1/2/4 bytes, count, vocab size).
//   meta.json   a summary: source, size, level, vocabulary, per-split byte
//               ranges, token and unknown counts.
//
// Levels:
//   byte  ids are the byte values, vocabulary 256, no <unk>: a prepared
//         corpus feeds the same models as the raw file.
//   char  UTF-8 code points. The vocabulary is the distinct code points of
//         the train split seen at least min_count times, most frequent first
//         (ties by code point), then <unk> as the last id; valid/test
//         characters not in it (and rarer train ones) map to <unk>. Malformed
//         UTF-8 is an error `FILE:LINE:COL: invalid UTF-8 at byte offset N:
//         ...` (COL counts characters, 1-based; the offset is 0-based).
//
// Splits, deterministic by position: with size S bytes, train is
// [0, floor(S * (1 - valid - test))), valid up to floor(S * (1 - test)),
// test the rest; at char level a boundary inside a character moves to that
// character's end (a character belongs to the split of its first byte).
#ifndef RNNFLOW_DATASET_CORPUS_H_
#define RNNFLOW_DATASET_CORPUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rnnflow {

enum class TextLevel { kByte, kChar };

struct TextPrepareOptions {
  TextLevel level = TextLevel::kByte;
  double valid_fraction = 0.05;
  double test_fraction = 0.05;
  int64_t min_count = 1;          // char level: rarer train characters -> <unk>
  int64_t block_bytes = 1 << 20;  // read and write buffer size
};

struct SplitSummary {
  std::string name;        // train, valid, test
  int64_t begin_byte = 0;  // byte range of the source file
  int64_t end_byte = 0;
  int64_t tokens = 0;
  int64_t unknown = 0;  // tokens mapped to <unk>
};

struct TextPrepareReport {
  std::string source;
  std::string out_dir;
  TextLevel level = TextLevel::kByte;
  int64_t input_bytes = 0;
  int64_t vocab_size = 0;
  int64_t unk_id = -1;  // -1 at byte level
  int token_width = 1;
  int passes = 1;  // reads of the source file
  SplitSummary splits[3];
  double seconds = 0;
  double mb_per_second = 0;  // input MB (1e6 bytes) / wall seconds
  int64_t peak_rss_bytes = 0;
};

absl::StatusOr<TextPrepareReport> PrepareText(const std::string& input, const std::string& out_dir,
                                              const TextPrepareOptions& options);

// "byte" or "char".
absl::StatusOr<TextLevel> ParseTextLevel(const std::string& name);
const char* TextLevelName(TextLevel level);

// A prepared directory's vocab.tsv. tokens[id] is the token's text (a single
// byte at byte level, a UTF-8 character at char level, "<unk>" for unk_id).
struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<int64_t> counts;
  int64_t unk_id = -1;
};
absl::StatusOr<Vocabulary> ReadVocabulary(const std::string& dir);

// Escaping used by vocab.tsv, and its inverse.
std::string EscapeToken(const std::string& token, TextLevel level);
absl::StatusOr<std::string> UnescapeToken(const std::string& text);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_CORPUS_H_
