#include "rnnflow/dataset/documents.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/read_file.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/internal/data_io.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {
namespace {

constexpr const char* kSplits[3] = {"train", "valid", "test"};

// Number of UTF-8 lead bytes (characters) before each of `offsets`
// (ascending) in `path`, in one streaming pass.
absl::StatusOr<std::vector<int64_t>> CharsBefore(const std::string& path,
                                                 const std::vector<int64_t>& offsets,
                                                 int64_t block_bytes) {
  std::vector<int64_t> out(offsets.size(), 0);
  BlockReader reader;
  RF_RETURN_IF_ERROR(reader.Open(path, block_bytes));
  int64_t at = 0, chars = 0;
  size_t next = 0;
  while (next < offsets.size()) {
    RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    const int64_t end = at + static_cast<int64_t>(block.size());
    for (int64_t i = at; next < offsets.size(); ++i) {
      while (next < offsets.size() && offsets[next] == i) out[next++] = chars;
      if (i >= end) break;
      chars += (static_cast<unsigned char>(block[i - at]) & 0xC0) != 0x80;
    }
    if (block.empty()) break;
    at = end;
  }
  while (next < offsets.size()) out[next++] = chars;  // offsets at the very end
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListDocumentFiles(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(in, ec)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> inside;
    for (const auto& entry : std::filesystem::directory_iterator(in, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] != '.' && entry.is_regular_file(ec)) {
        inside.push_back(entry.path().string());
      }
    }
    if (ec) return absl::NotFoundError(absl::StrCat(in, ": cannot list: ", ec.message()));
    if (inside.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(in, ": directory has no files"));
    }
    std::sort(inside.begin(), inside.end());
    files.insert(files.end(), inside.begin(), inside.end());
  }
  return files;
}

absl::StatusOr<TextPrepareReport> PrepareTextDocuments(const std::vector<std::string>& files,
                                                       const std::string& out_dir,
                                                       const TextPrepareOptions& options,
                                                       int64_t documents[3]) {
  if (files.empty()) return absl::InvalidArgumentError("no input files");
  RF_RETURN_IF_ERROR(MakeDirectories(out_dir));
  // The concatenation, with every non-empty file's start offset.
  const std::string joined = out_dir + "/documents.txt";
  std::vector<int64_t> starts;
  {
    BlockWriter writer;
    RF_RETURN_IF_ERROR(writer.Open(joined, options.block_bytes));
    for (const std::string& file : files) {
      BlockReader reader;
      RF_RETURN_IF_ERROR(reader.Open(file, options.block_bytes));
      if (reader.size() > 0) starts.push_back(writer.bytes_written());
      while (true) {
        RF_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
        if (block.empty()) break;
        RF_RETURN_IF_ERROR(writer.Write(block));
      }
    }
    RF_RETURN_IF_ERROR(writer.Commit());
  }
  struct Remove {
    std::string path;
    ~Remove() { ::unlink(path.c_str()); }
  } remove_joined{joined};

  auto report = PrepareText(joined, out_dir, options);
  if (!report.ok()) {
    // Errors name the joined file; say which input a byte offset came from.
    return absl::Status(
        report.status().code(),
        absl::StrCat(report.status().message(), " (", joined, " is the concatenation of the ",
                     files.size(), " input files in order)"));
  }
  TextPrepareReport r = *std::move(report);
  r.source = absl::StrCat(files.size(), " files: ", files.front(), " ... ", files.back());

  // Token positions: bytes directly; characters by counting lead bytes.
  std::vector<int64_t> split_begin(3), doc_pos(starts.size());
  if (options.level == TextLevel::kByte) {
    for (int i = 0; i < 3; ++i) split_begin[i] = r.splits[i].begin_byte;
    doc_pos = starts;
  } else {
    std::vector<int64_t> begins = {r.splits[0].begin_byte, r.splits[1].begin_byte,
                                   r.splits[2].begin_byte};
    RF_ASSIGN_OR_RETURN(split_begin, CharsBefore(joined, begins, options.block_bytes));
    RF_ASSIGN_OR_RETURN(doc_pos, CharsBefore(joined, starts, options.block_bytes));
  }
  for (int i = 0; i < 3; ++i) {
    std::string text =
        absl::StrCat("# document starts in ", kSplits[i], ".tok (token positions), one per line\n");
    documents[i] = 0;
    for (size_t d = 0; d < starts.size(); ++d) {
      if (starts[d] < r.splits[i].begin_byte || starts[d] >= r.splits[i].end_byte) continue;
      absl::StrAppend(&text, doc_pos[d] - split_begin[i], "\n");
      ++documents[i];
    }
    RF_RETURN_IF_ERROR(WriteSmallFile(absl::StrCat(out_dir, "/", kSplits[i], ".docs"), text));
  }
  // meta.json names the inputs, not the removed concatenation.
  const std::string meta_path = out_dir + "/meta.json";
  RF_ASSIGN_OR_RETURN(const std::string meta, ReadFileToString(meta_path));
  const std::string fixed = absl::StrReplaceAll(
      meta, {{JsonQuote(joined),
              absl::StrCat(JsonQuote(r.source), ",\n  \"documents\": ", starts.size())}});
  RF_RETURN_IF_ERROR(WriteSmallFile(meta_path, fixed));
  return r;
}

absl::StatusOr<DocumentStarts> DocumentStarts::Read(const std::string& dir,
                                                    const std::string& split, int64_t num_tokens) {
  const std::string path = absl::StrCat(dir, "/", split, ".docs");
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path,
                     ": no document boundaries (prepare the corpus from several files: "
                     "PrepareTextDocuments, as `rnnflow prepare text FILE FILE...` does)"));
  }
  DocumentStarts d;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty() || line[0] == '#') continue;
    int64_t pos = 0;
    if (!absl::SimpleAtoi(line, &pos) || pos < 0 || pos >= num_tokens ||
        (!d.starts_.empty() && pos <= d.starts_.back())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ":1: expected a token position in [0, ", num_tokens,
                       ") above the previous one; got '", line, "'"));
    }
    d.starts_.push_back(pos);
  }
  return d;
}

absl::StatusOr<DocumentStarts> ReadSplitDocuments(const std::string& dir,
                                                  const std::string& split) {
  RF_ASSIGN_OR_RETURN(std::unique_ptr<TokenFile> tokens,
                      TokenFile::Open(absl::StrCat(dir, "/", split, ".tok")));
  return DocumentStarts::Read(dir, split, tokens->size());
}

void DocumentStarts::Fill(int64_t stream_length, int64_t first_column, int64_t position,
                          absl::Span<float> resets, int64_t steps, int64_t columns) const {
  std::fill(resets.begin(), resets.end(), 0.f);
  for (int64_t c = 0; c < columns; ++c) {
    const int64_t begin = (first_column + c) * stream_length + position;
    for (auto it = std::lower_bound(starts_.begin(), starts_.end(), begin);
         it != starts_.end() && *it < begin + steps; ++it) {
      resets[(*it - begin) * columns + c] = 1.f;
    }
  }
}

}  // namespace rnnflow
