// The most-frequent-tag baseline for examples/bidirectional_tagger: each
// word gets the tag it carries most often in the train split of a directory
// from `rnnflow prepare examples --format tagged`; words the train split does
// not know (<unk>, id 1, in valid/test) get the tag most frequent among the
// train split's own <unk> tokens (rare words), or the most frequent tag
// overall when it has none. Ties go to the smaller tag id (the more frequent
// tag overall: tags.tsv is sorted by count).
//
//   build/bidirectional_tagger_most_frequent_tag DIR
//
// Prints per-token accuracy on valid and test: the same tokens the tagger's
// `rnnflow eval` counts (padding never counts).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/dataset/example_file.h"
#include "tools/flags.h"

namespace {

using rnnflow::ExampleFile;

constexpr int32_t kUnknown = 1;  // <unk> in every prepared vocabulary

double Accuracy(const ExampleFile& f, const std::vector<int32_t>& best_tag) {
  int64_t correct = 0, total = 0;
  for (int64_t i = 0; i < f.size(); ++i) {
    auto tokens = f.tokens(i);
    auto tags = f.tags(i);
    for (size_t k = 0; k < tokens.size(); ++k) {
      ++total;
      correct += best_tag[tokens[k]] == tags[k];
    }
  }
  return total > 0 ? static_cast<double>(correct) / total : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = "bidirectional_tagger_most_frequent_tag";
  rnnflow::ParsedFlags flags;
  if (auto exit = rnnflow::ParseCommandLine(
          command, std::vector<std::string>(argv + 1, argv + argc), {},
          rnnflow::Usage(command, "DIR",
                         "Tags each word of DIR (from `rnnflow prepare examples --format tagged`)\n"
                         "with its most frequent train tag: per-token accuracy on each split.",
                         {}),
          1, {}, &flags)) {
    return *exit;
  }
  const std::string dir = flags.positional[0];
  auto train = ExampleFile::Open(dir + "/train.ex");
  if (!train.ok()) return rnnflow::Fail(flags, train.status());
  const rnnflow::ExampleFileInfo& info = (*train)->info();
  if (!info.has_tags) {
    return rnnflow::Fail(
        flags, absl::InvalidArgumentError(
                   absl::StrCat(dir, "/train.ex has no tags (prepare it with --format tagged)")));
  }
  const int64_t vocab = info.vocab_size, num_tags = info.num_tags;
  // counts[word * num_tags + tag]
  std::vector<int64_t> counts(static_cast<size_t>(vocab * num_tags), 0), overall(num_tags, 0);
  for (int64_t i = 0; i < (*train)->size(); ++i) {
    auto tokens = (*train)->tokens(i);
    auto tags = (*train)->tags(i);
    for (size_t k = 0; k < tokens.size(); ++k) {
      ++counts[static_cast<size_t>(tokens[k] * num_tags + tags[k])];
      ++overall[tags[k]];
    }
  }
  const int32_t most_frequent =
      static_cast<int32_t>(std::max_element(overall.begin(), overall.end()) - overall.begin());
  std::vector<int32_t> best_tag(static_cast<size_t>(vocab), most_frequent);
  for (int64_t w = 0; w < vocab; ++w) {
    const int64_t* row = counts.data() + w * num_tags;
    const int64_t* best = std::max_element(row, row + num_tags);
    if (*best > 0) best_tag[w] = static_cast<int32_t>(best - row);
  }
  std::printf("most-frequent-tag baseline on %s (%lld words, %lld tags; <unk> -> tag %d)\n",
              dir.c_str(), static_cast<long long>(vocab), static_cast<long long>(num_tags),
              best_tag[kUnknown]);
  for (const char* split : {"train", "valid", "test"}) {
    auto f = ExampleFile::Open(dir + "/" + split + ".ex");
    if (!f.ok()) return rnnflow::Fail(flags, f.status());
    std::printf("  %-5s per-token accuracy %.4f\n", split, Accuracy(**f, best_tag));
  }
  return 0;
}
