// Labelled examples on disk: one `.ex` file per split (train, valid, test)
// written by `rnnflow prepare examples` (dataset/example_prepare.h) and
// memory-mapped for training. Each example has
//
//   tokens   a sequence of ids (length >= 1)
//   tags     optional: one target id per token (sequence labelling)
//   targets  optional: a second id sequence of its own length (pairs:
//            seq2seq targets)
//   values   optional: F floats per token (float sequences)
//   label    optional: a class id (int32) or K float targets
//
// Sections are columnar and addressed through offsets, so example i is
// found in O(1) without reading the others. Little-endian:
//
//   offset  size  field
//   0       8     magic "RNFEXMPL"
//   8       4     version (kExampleFileVersion = 1)
//   12      4     label kind: 0 none, 1 class id (int32), 2 float (K floats)
//   16      8     examples E
//   24      8     total tokens S (sum of lengths)
//   32      8     total target tokens U
//   40      4     features F per token (0: no values section)
//   44      4     label width K (1 for class ids; 0 without labels)
//   48      4     has tags (0 or 1)
//   52      4     has targets (0 or 1)
//   56      4     vocabulary size (every token id is < this)
//   60      4     classes (class ids are < this), or 0
//   64      4     tag vocabulary size, or 0
//   68      4     target vocabulary size, or 0
//   72      7x8   section offsets (0 when absent), each a multiple of 8:
//                 token offsets  uint64 [E + 1] (example i: [o[i], o[i+1]))
//                 tokens         int32 [S]
//                 tags           int32 [S]
//                 target offsets uint64 [E + 1]
//                 targets        int32 [U]
//                 values         float32 [S * F]
//                 labels         int32 [E] or float32 [E * K]
//   128           the sections, in that order
#ifndef RNNFLOW_DATASET_EXAMPLE_FILE_H_
#define RNNFLOW_DATASET_EXAMPLE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {

inline constexpr char kExampleFileMagic[8] = {'R', 'N', 'F', 'E', 'X', 'M', 'P', 'L'};
inline constexpr uint32_t kExampleFileVersion = 1;

enum class LabelKind : uint32_t { kNone = 0, kClass = 1, kFloat = 2 };

struct ExampleFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t label_kind;
  uint64_t examples;
  uint64_t total_tokens;
  uint64_t total_targets;
  uint32_t features;
  uint32_t label_width;
  uint32_t has_tags;
  uint32_t has_targets;
  uint32_t vocab_size;
  uint32_t num_classes;
  uint32_t num_tags;
  uint32_t target_vocab_size;
  uint64_t section[7];
};
static_assert(sizeof(ExampleFileHeader) == 128, "the example file header is 128 bytes");

// One example in memory (preparation, tests).
struct Example {
  std::vector<int32_t> tokens;
  std::vector<int32_t> tags;        // empty or tokens.size()
  std::vector<int32_t> targets;     // the second sequence (pairs)
  std::vector<float> values;        // tokens.size() * F
  int32_t label = -1;               // LabelKind::kClass
  std::vector<float> label_values;  // LabelKind::kFloat, K floats
};

// What a file holds besides its examples.
struct ExampleFileInfo {
  LabelKind label_kind = LabelKind::kNone;
  int label_width = 0;  // K (1 for classes)
  int features = 0;     // F
  bool has_tags = false;
  bool has_targets = false;
  int64_t vocab_size = 0;
  int64_t num_classes = 0;
  int64_t num_tags = 0;
  int64_t target_vocab_size = 0;
};

// Writes examples whose fields agree with `info` (checked: the writer is fed
// by preparation code, so a mismatch is a bug reported as an error).
absl::Status WriteExampleFile(const std::string& path, const ExampleFileInfo& info,
                              const std::vector<Example>& examples);

// A mapped, validated `.ex` file.
class ExampleFile {
 public:
  // Checks magic, version, sizes, offsets (monotone, in bounds) and that
  // every id is below its vocabulary; errors name the file and the field.
  static absl::StatusOr<std::unique_ptr<ExampleFile>> Open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const ExampleFileInfo& info() const { return info_; }
  int64_t size() const { return count_; }

  int64_t length(int64_t i) const { return static_cast<int64_t>(offsets_[i + 1] - offsets_[i]); }
  absl::Span<const int32_t> tokens(int64_t i) const {
    return {tokens_ + offsets_[i], static_cast<size_t>(length(i))};
  }
  absl::Span<const int32_t> tags(int64_t i) const {
    return {tags_ + offsets_[i], static_cast<size_t>(length(i))};
  }
  absl::Span<const int32_t> targets(int64_t i) const {
    return {targets_ + target_offsets_[i],
            static_cast<size_t>(target_offsets_[i + 1] - target_offsets_[i])};
  }
  // F floats per token.
  absl::Span<const float> values(int64_t i) const {
    const size_t f = static_cast<size_t>(info_.features);
    return {values_ + offsets_[i] * f, static_cast<size_t>(length(i)) * f};
  }
  int32_t label(int64_t i) const { return class_labels_[i]; }
  absl::Span<const float> label_values(int64_t i) const {
    const size_t k = static_cast<size_t>(info_.label_width);
    return {float_labels_ + i * k, k};
  }

 private:
  ExampleFile() = default;
  std::unique_ptr<MappedFile> file_;
  ExampleFileInfo info_;
  int64_t count_ = 0;
  const uint64_t* offsets_ = nullptr;
  const int32_t* tokens_ = nullptr;
  const int32_t* tags_ = nullptr;
  const uint64_t* target_offsets_ = nullptr;
  const int32_t* targets_ = nullptr;
  const float* values_ = nullptr;
  const int32_t* class_labels_ = nullptr;
  const float* float_labels_ = nullptr;
};

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_EXAMPLE_FILE_H_
