// The CMU Pronouncing Dictionary as (word, pronunciation) pairs for
// `rnnflow prepare examples --format cmudict` (dataset/example_sources.h).
//
// One entry per line: `WORD  PH1 PH2 ...` (the word, whitespace, ARPAbet
// phonemes separated by spaces). Alternate pronunciations are written
// `WORD(1)`, `WORD(2)`, ...; the suffix is dropped, so every pronunciation
// is an example of the same source word (and, as the split hashes the
// source tokens, lands in the same split). Lines starting with `;;;` and
// blank lines are skipped. A line that is not valid UTF-8 is read as
// Latin-1 (CMUdict 0.7b has one such word, "DÉJÀ").
//
// Formats:
//   cmudict         stress digits dropped (AH0, AH1 -> AH): 39 phonemes
//   cmudict-stress  phonemes as written (AH0, AH1, AH2 distinct)
// The record's text is the word as written (characters: prepare with
// `--level char`), its target the phoneme tokens. The reader gives no labels
// and needs a target field name: `--label-field '' --target-field phonemes`.
//
// Malformed lines are errors naming FILE:LINE:COLUMN: no phonemes, a
// phoneme that is not letters with an optional stress digit 0-2, an
// unterminated or non-numeric `(n)` suffix.
#ifndef RNNFLOW_DATASET_CMUDICT_SOURCE_H_
#define RNNFLOW_DATASET_CMUDICT_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rnnflow {

struct CmudictEntry {
  std::string word;                   // without the (n) suffix
  std::vector<std::string> phonemes;  // stress digits dropped unless kept
  int alternate = 0;                  // n of WORD(n); 0 for the first
};

// Parses one line (without its newline). `column` receives the 1-based
// column of an error; the caller adds FILE:LINE.
absl::Status ParseCmudictLine(absl::string_view line, bool keep_stress, CmudictEntry* entry,
                              int64_t* column);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_CMUDICT_SOURCE_H_
