#include "rnnflow/dataset/example_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/internal/data_io.h"

namespace rnnflow {
namespace {

enum Section {
  kTokenOffsets = 0,
  kTokens,
  kTags,
  kTargetOffsets,
  kTargets,
  kValues,
  kLabels,
  kNumSections
};
const char* const kSectionNames[kNumSections] = {
    "token offsets", "tokens", "tags", "target offsets", "targets", "values", "labels"};

uint64_t Align8(uint64_t n) { return (n + 7) / 8 * 8; }

// Byte sizes of every section for the given counts (0: absent).
void SectionSizes(const ExampleFileInfo& info, uint64_t examples, uint64_t tokens, uint64_t targets,
                  uint64_t sizes[kNumSections]) {
  sizes[kTokenOffsets] = (examples + 1) * 8;
  sizes[kTokens] = tokens * 4;
  sizes[kTags] = info.has_tags ? tokens * 4 : 0;
  sizes[kTargetOffsets] = info.has_targets ? (examples + 1) * 8 : 0;
  sizes[kTargets] = info.has_targets ? targets * 4 : 0;
  sizes[kValues] = tokens * static_cast<uint64_t>(info.features) * 4;
  sizes[kLabels] = info.label_kind == LabelKind::kNone
                       ? 0
                       : examples * static_cast<uint64_t>(info.label_width) * 4;
}

absl::Status CheckIds(const std::string& path, const char* what, const int32_t* ids, uint64_t n,
                      int64_t limit) {
  for (uint64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= limit) {
      return absl::DataLossError(absl::StrCat(path, ": ", what, " id ", ids[i], " at position ", i,
                                              " is outside [0, ", limit, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteExampleFile(const std::string& path, const ExampleFileInfo& info,
                              const std::vector<Example>& examples) {
  const size_t f = static_cast<size_t>(info.features);
  const size_t k = static_cast<size_t>(info.label_width);
  uint64_t tokens = 0, targets = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    const size_t len = e.tokens.size();
    if (len == 0 || (info.has_tags && e.tags.size() != len) || e.values.size() != len * f ||
        (info.label_kind == LabelKind::kFloat && e.label_values.size() != k)) {
      return absl::InternalError(
          absl::StrCat(path, ": example ", i, " does not match the file's fields"));
    }
    tokens += len;
    targets += e.targets.size();
  }
  ExampleFileHeader h;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.magic, kExampleFileMagic, sizeof(h.magic));
  h.version = kExampleFileVersion;
  h.label_kind = static_cast<uint32_t>(info.label_kind);
  h.examples = examples.size();
  h.total_tokens = tokens;
  h.total_targets = targets;
  h.features = static_cast<uint32_t>(info.features);
  h.label_width = static_cast<uint32_t>(info.label_width);
  h.has_tags = info.has_tags;
  h.has_targets = info.has_targets;
  h.vocab_size = static_cast<uint32_t>(info.vocab_size);
  h.num_classes = static_cast<uint32_t>(info.num_classes);
  h.num_tags = static_cast<uint32_t>(info.num_tags);
  h.target_vocab_size = static_cast<uint32_t>(info.target_vocab_size);
  uint64_t sizes[kNumSections];
  SectionSizes(info, h.examples, tokens, targets, sizes);
  uint64_t offset = sizeof(h);
  for (int s = 0; s < kNumSections; ++s) {
    h.section[s] = sizes[s] == 0 ? 0 : offset;
    offset = Align8(offset + sizes[s]);
  }

  BlockWriter w;
  RF_RETURN_IF_ERROR(w.Open(path));
  RF_RETURN_IF_ERROR(w.Write(&h, sizeof(h)));
  const char zeros[8] = {0};
  auto pad = [&]() { return w.Write(zeros, Align8(w.bytes_written()) - w.bytes_written()); };
  auto write_offsets = [&](bool targets_section) -> absl::Status {
    uint64_t o = 0;
    RF_RETURN_IF_ERROR(w.Write(&o, 8));
    for (const Example& e : examples) {
      o += targets_section ? e.targets.size() : e.tokens.size();
      RF_RETURN_IF_ERROR(w.Write(&o, 8));
    }
    return absl::OkStatus();
  };
  RF_RETURN_IF_ERROR(write_offsets(false));
  for (const Example& e : examples) {
    RF_RETURN_IF_ERROR(w.Write(e.tokens.data(), e.tokens.size() * 4));
  }
  RF_RETURN_IF_ERROR(pad());
  if (info.has_tags) {
    for (const Example& e : examples) RF_RETURN_IF_ERROR(w.Write(e.tags.data(), e.tags.size() * 4));
    RF_RETURN_IF_ERROR(pad());
  }
  if (info.has_targets) {
    RF_RETURN_IF_ERROR(write_offsets(true));
    for (const Example& e : examples) {
      RF_RETURN_IF_ERROR(w.Write(e.targets.data(), e.targets.size() * 4));
    }
    RF_RETURN_IF_ERROR(pad());
  }
  if (f > 0) {
    for (const Example& e : examples) {
      RF_RETURN_IF_ERROR(w.Write(e.values.data(), e.values.size() * 4));
    }
    RF_RETURN_IF_ERROR(pad());
  }
  if (info.label_kind == LabelKind::kClass) {
    for (const Example& e : examples) RF_RETURN_IF_ERROR(w.Write(&e.label, 4));
  } else if (info.label_kind == LabelKind::kFloat) {
    for (const Example& e : examples) RF_RETURN_IF_ERROR(w.Write(e.label_values.data(), k * 4));
  }
  RF_RETURN_IF_ERROR(pad());
  if (static_cast<uint64_t>(w.bytes_written()) != offset) {
    return absl::InternalError(
        absl::StrCat(path, ": wrote ", w.bytes_written(), " bytes, planned ", offset));
  }
  return w.Commit();
}

absl::StatusOr<std::unique_ptr<ExampleFile>> ExampleFile::Open(const std::string& path) {
  RF_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  ExampleFileHeader h;
  if (file->size() < static_cast<int64_t>(sizeof(h))) {
    return absl::DataLossError(absl::StrCat(path, ": ", file->size(),
                                            " bytes: too short for an example file header (128)"));
  }
  std::memcpy(&h, file->data(), sizeof(h));
  if (std::memcmp(h.magic, kExampleFileMagic, sizeof(h.magic)) != 0) {
    return absl::DataLossError(
        absl::StrCat(path,
                     ": not an example file (no RNFEXMPL magic); prepare it with "
                     "`rnnflow prepare examples`"));
  }
  if (h.version != kExampleFileVersion) {
    return absl::DataLossError(absl::StrCat(path, ": example file version ", h.version,
                                            "; this build reads version ", kExampleFileVersion));
  }
  if (h.label_kind > 2 || h.has_tags > 1 || h.has_targets > 1 || h.features > (1u << 20) ||
      h.label_width > (1u << 20) || h.examples > (uint64_t{1} << 40) ||
      h.total_tokens > (uint64_t{1} << 40) || h.total_targets > (uint64_t{1} << 40)) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt header (field out of range)"));
  }
  std::unique_ptr<ExampleFile> ex(new ExampleFile());
  ExampleFileInfo& info = ex->info_;
  info.label_kind = static_cast<LabelKind>(h.label_kind);
  info.label_width = static_cast<int>(h.label_width);
  info.features = static_cast<int>(h.features);
  info.has_tags = h.has_tags != 0;
  info.has_targets = h.has_targets != 0;
  info.vocab_size = h.vocab_size;
  info.num_classes = h.num_classes;
  info.num_tags = h.num_tags;
  info.target_vocab_size = h.target_vocab_size;
  uint64_t sizes[kNumSections];
  SectionSizes(info, h.examples, h.total_tokens, h.total_targets, sizes);
  const uint8_t* base = file->data();
  const uint64_t file_size = static_cast<uint64_t>(file->size());
  const void* at[kNumSections] = {nullptr};
  for (int s = 0; s < kNumSections; ++s) {
    if (sizes[s] == 0) continue;
    const uint64_t o = h.section[s];
    if (o < sizeof(h) || o % 8 != 0 || o > file_size || sizes[s] > file_size - o) {
      return absl::DataLossError(absl::StrCat(
          path, ": the ", kSectionNames[s], " section (", sizes[s], " bytes at offset ", o,
          ") does not fit the file's ", file_size, " bytes (truncated file?)"));
    }
    at[s] = base + o;
  }
  ex->count_ = static_cast<int64_t>(h.examples);
  ex->offsets_ = static_cast<const uint64_t*>(at[kTokenOffsets]);
  ex->tokens_ = static_cast<const int32_t*>(at[kTokens]);
  ex->tags_ = static_cast<const int32_t*>(at[kTags]);
  ex->target_offsets_ = static_cast<const uint64_t*>(at[kTargetOffsets]);
  ex->targets_ = static_cast<const int32_t*>(at[kTargets]);
  ex->values_ = static_cast<const float*>(at[kValues]);
  if (info.label_kind == LabelKind::kClass) {
    ex->class_labels_ = static_cast<const int32_t*>(at[kLabels]);
  } else if (info.label_kind == LabelKind::kFloat) {
    ex->float_labels_ = static_cast<const float*>(at[kLabels]);
  }
  auto check_offsets = [&](const uint64_t* o, uint64_t total, const char* what,
                           bool nonempty) -> absl::Status {
    if (o[0] != 0 || o[h.examples] != total) {
      return absl::DataLossError(
          absl::StrCat(path, ": ", what, " offsets do not span [0, ", total, ")"));
    }
    for (uint64_t i = 0; i < h.examples; ++i) {
      if (o[i + 1] < o[i] || (nonempty && o[i + 1] == o[i])) {
        return absl::DataLossError(absl::StrCat(path, ": example ", i, " has ",
                                                nonempty ? "an empty or " : "a ", "negative ", what,
                                                " range"));
      }
    }
    return absl::OkStatus();
  };
  RF_RETURN_IF_ERROR(check_offsets(ex->offsets_, h.total_tokens, "token", true));
  RF_RETURN_IF_ERROR(CheckIds(path, "token", ex->tokens_, h.total_tokens, info.vocab_size));
  if (info.has_tags) {
    RF_RETURN_IF_ERROR(CheckIds(path, "tag", ex->tags_, h.total_tokens, info.num_tags));
  }
  if (info.has_targets) {
    RF_RETURN_IF_ERROR(check_offsets(ex->target_offsets_, h.total_targets, "target", false));
    RF_RETURN_IF_ERROR(
        CheckIds(path, "target", ex->targets_, h.total_targets, info.target_vocab_size));
  }
  if (info.label_kind == LabelKind::kClass) {
    RF_RETURN_IF_ERROR(CheckIds(path, "class", ex->class_labels_, h.examples, info.num_classes));
  }
  ex->file_ = std::move(file);
  return ex;
}

}  // namespace rnnflow
