// Records for `rnnflow prepare examples` from a `name<TAB>gender` list
// (scripts/fetch-data first-names: a header line `name<TAB>gender`, then one
// name per line, gender `female` or `male`). Each name becomes one JSON
// record, lowercased:
//
//   {"letters": ["<s>", "a", "l", "e", "x"], "next": ["a", "l", "e", "x", "</s>"],
//    "gender": "female"}
//
// prepared with --text-field letters --tags-field next --label-field gender
// --keep-duplicates (a name on both lists is one example per gender; both
// land in the same split, since the split hashes the letters only).
#ifndef RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_DATA_H_
#define RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_DATA_H_

#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rnnflow::one_to_many {

// Writes the records of `tsv` to `json`; returns how many. Errors name
// FILE:LINE:COLUMN.
inline absl::StatusOr<int64_t> WriteNameRecords(const std::string& tsv, const std::string& json) {
  std::ifstream in(tsv);
  if (!in) return absl::NotFoundError(absl::StrCat(tsv, ": cannot open"));
  std::ostringstream out;
  out << "[\n";
  std::string line;
  int64_t line_no = 0, records = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((line_no == 1 && line == "name\tgender") || line.empty()) continue;
    const std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() != 2 || (cols[1] != "female" && cols[1] != "male") || cols[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          tsv, ":", line_no, ":1: expected NAME<TAB>female or NAME<TAB>male; got '", line, "'"));
    }
    std::string letters = "[\"<s>\"", next = "[";
    for (size_t i = 0; i < cols[0].size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(cols[0][i]);
      if (!std::isalpha(c) && c != '-' && c != '\'') {
        return absl::InvalidArgumentError(
            absl::StrCat(tsv, ":", line_no, ":", i + 1, ": '", std::string(1, cols[0][i]),
                         "' in a name (expected ASCII letters, '-' or an apostrophe)"));
      }
      const std::string l(1, static_cast<char>(std::tolower(c)));
      absl::StrAppend(&letters, ", \"", l, "\"");
      absl::StrAppend(&next, i ? ", " : "", "\"", l, "\"");
    }
    out << (records ? ",\n" : "") << "{\"letters\": " << letters << "], \"next\": " << next
        << ", \"</s>\"], \"gender\": \"" << cols[1] << "\"}";
    ++records;
  }
  out << "\n]\n";
  std::ofstream f(json);
  f << out.str();
  f.close();
  if (!f) return absl::InternalError(absl::StrCat(json, ": cannot write"));
  return records;
}

}  // namespace rnnflow::one_to_many

#endif  // RNNFLOW_EXAMPLES_ONE_TO_MANY_NAMES_DATA_H_
