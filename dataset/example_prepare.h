// `rnnflow prepare examples`: labelled examples from one or more files
// (dataset/example_sources.h) into a directory the trainer reads.
//
//   1. read every record (JSON / TSV / CSV / registered formats);
//   2. tokenise the text (and target) by the TextRules (dataset/example_text.h);
//      an example longer than max_length keeps its first max_length tokens
//      (counted);
//   3. deduplicate: examples with the same token sequence (and target) are
//      one; the first is kept, later ones are dropped and counted (those with
//      a different label as "conflicting");
//   4. split by a hash of the token sequence: FNV-1a 64 of the tokens (each
//      followed by 0x1F), mixed with SplitMix64, as u in [0, 1): u < valid
//      goes to valid, u < valid + test to test, the rest to train. The split
//      of an example never depends on the others or on file order;
//   5. vocabularies from the train split only (valid/test tokens missing from
//      it become <unk>), labels/tags from all splits;
//   6. write the directory:
//        train.ex valid.ex test.ex   dataset/example_file.h
//        vocab.tsv                   token vocabulary (<pad> 0, <unk> 1)
//        labels.tsv                  class names (label kind class)
//        tags.tsv, target_vocab.tsv  when tags / targets were read
//        rules.tsv                   `key<TAB>value`: the tokenising rules and
//                                    label kind, so `rnnflow predict` treats
//                                    new text the same way
//
// Class labels: when every label is an integer >= 0 (or true/false, read as
// 1/0), the class id is that integer and labels.tsv names 0..max; otherwise
// the distinct label strings sorted by byte order are the classes. Float
// labels must parse as numbers (an error names the record's position).
#ifndef RNNFLOW_DATASET_EXAMPLE_PREPARE_H_
#define RNNFLOW_DATASET_EXAMPLE_PREPARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_sources.h"
#include "rnnflow/dataset/example_text.h"

namespace rnnflow {

struct ExamplePrepareOptions {
  std::string format = "json";
  ExampleFields fields;
  TextRules rules;
  LabelKind label_kind = LabelKind::kClass;  // kNone when fields.label is empty
  int64_t min_count = 1;
  int64_t max_vocab = 0;   // 0: no limit
  int64_t max_length = 0;  // 0: keep whole examples
  double valid_fraction = 0.1;
  double test_fraction = 0.1;
  bool deduplicate = true;
};

struct ExamplePrepareReport {
  std::string out_dir;
  ExampleSourceStats source;
  int64_t examples = 0;     // after skipping, before deduplication
  int64_t duplicates = 0;   // dropped
  int64_t conflicting = 0;  // of which with another label
  int64_t truncated = 0;    // longer than max_length
  int64_t vocab_size = 0;
  std::vector<std::string> classes;
  int64_t num_tags = 0;
  int64_t split_examples[3] = {0, 0, 0};
  int64_t split_tokens[3] = {0, 0, 0};
  int64_t split_unknown[3] = {0, 0, 0};
  int64_t max_tokens = 0;
  // [split][class] counts (class labels).
  std::vector<std::vector<int64_t>> class_counts;
  double seconds = 0;
};

absl::StatusOr<ExamplePrepareReport> PrepareExamples(const std::vector<std::string>& inputs,
                                                     const std::string& out_dir,
                                                     const ExamplePrepareOptions& options);

// rules.tsv of a prepared directory.
struct ExampleRulesFile {
  TextRules rules;
  LabelKind label_kind = LabelKind::kNone;
  int64_t max_length = 0;
};
absl::StatusOr<ExampleRulesFile> ReadExampleRules(const std::string& dir);

// The split an example's token sequence falls in: 0 train, 1 valid, 2 test.
int ExampleSplitOf(const std::vector<std::string>& tokens, double valid, double test);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_EXAMPLE_PREPARE_H_
