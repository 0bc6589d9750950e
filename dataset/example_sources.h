// Readers of labelled-example files for `rnnflow prepare examples`. Each
// format turns a file into RawExamples (text or pre-split tokens, a label,
// optional per-token tags, an optional target sequence); the preparation
// (dataset/example_prepare.h) tokenises, deduplicates, splits and writes
// them. Formats are looked up by name, so a new one (e.g. `word/TAG`
// corpora, pronunciation dictionaries) is one RegisterExampleFormat call.
//
// Built in:
//   json  a JSON array of flat objects, e.g. [{"text": "...", "class": 1}].
//         The text field is a string, or an array of strings (tokens
//         already split); the label a number, string or boolean; tags an
//         array of strings, one per token; the target a string or array of
//         strings. Other fields are ignored. A record whose text is empty or
//         whose label is null/missing is skipped and counted.
//   tsv   tab-separated, one record per line; `csv`: comma-separated with
//         RFC 4180 quoting ("" inside quotes). With a header row fields are
//         named by it; without one (`header = false`) they are 1-based
//         column numbers ("1", "2"). Tags/targets are space-separated.
// Every error names FILE:LINE:COLUMN (1-based; columns count bytes).
#ifndef RNNFLOW_DATASET_EXAMPLE_SOURCES_H_
#define RNNFLOW_DATASET_EXAMPLE_SOURCES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rnnflow {

struct RawExample {
  std::string text;                 // when !pre_split
  std::vector<std::string> tokens;  // when pre_split
  bool pre_split = false;
  bool has_label = false;
  std::string label;              // as written ("1", "pos", "0.25", "true")
  std::vector<std::string> tags;  // one per token, or empty
  bool has_target = false;
  std::string target_text;
  std::vector<std::string> target_tokens;  // when target_pre_split
  bool target_pre_split = false;
  int64_t line = 0, column = 0;  // where the record starts
};

// Which fields to read (names or, headerless delimited files, numbers).
struct ExampleFields {
  std::string text = "text";
  std::string label = "class";  // empty: no label
  std::string tags;             // empty: no tags
  std::string target;           // empty: no target
  bool header = true;           // delimited files
};

struct ExampleSourceStats {
  int64_t records = 0;
  int64_t skipped_empty = 0;     // no text
  int64_t skipped_no_label = 0;  // label null or missing
  std::string first_skipped;     // FILE:LINE:COL of the first skipped record
};

using ExampleSink = std::function<absl::Status(RawExample&)>;

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  // Calls `sink` for every usable record in file order.
  virtual absl::Status ForEach(const ExampleSink& sink, ExampleSourceStats* stats) = 0;
};

using ExampleSourceFactory = std::function<absl::StatusOr<std::unique_ptr<ExampleSource>>(
    const std::string& path, const ExampleFields& fields)>;

void RegisterExampleFormat(const std::string& name, ExampleSourceFactory factory);
// Names of the registered formats, sorted.
std::vector<std::string> ExampleFormats();
absl::StatusOr<std::unique_ptr<ExampleSource>> OpenExampleSource(const std::string& format,
                                                                 const std::string& path,
                                                                 const ExampleFields& fields);

// FILE:LINE:COL of byte `offset` of an in-memory file (errors).
std::string PositionOf(const std::string& path, const std::string& contents, size_t offset);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_EXAMPLE_SOURCES_H_
