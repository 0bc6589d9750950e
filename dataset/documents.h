// Document boundaries of a prepared text corpus, and the reset masks the
// trainer feeds to graph inputs declared `feed: RESETS` (the `resets` input
// of the fused RNN/LSTM/GRU ops zeroes a column's state there).
//
// `rnnflow prepare text FILE FILE... --out DIR` (or a directory, its regular
// files in name order) treats every non-empty file as one document: it
// prepares their concatenation exactly like a single corpus (same splits by
// position, same vocabulary) and also writes, per split,
//
//   DIR/train.docs, DIR/valid.docs, DIR/test.docs
//       text: a `#` comment line, then the token positions (0-based, in
//       SPLIT.tok) where a document starts, ascending, one per line.
//
// A document that starts in a split is listed there at the position of its
// first token (at char level: its first character). Streams (runtime/
// token_streams.h) then mark reset[t, c] = 1 exactly where the token fed at
// step t of column c is the first token of a document.
#ifndef RNNFLOW_DATASET_DOCUMENTS_H_
#define RNNFLOW_DATASET_DOCUMENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/dataset/corpus.h"

namespace rnnflow {

// The files to prepare as documents: `inputs` as given, except that a
// directory stands for its regular files (not hidden ones) sorted by name.
absl::StatusOr<std::vector<std::string>> ListDocumentFiles(const std::vector<std::string>& inputs);

// Concatenates `files` into a temporary file in `out_dir`, prepares it with
// PrepareText, writes the three .docs files and removes the temporary file.
// `documents` receives the number of documents starting in each split.
absl::StatusOr<TextPrepareReport> PrepareTextDocuments(const std::vector<std::string>& files,
                                                       const std::string& out_dir,
                                                       const TextPrepareOptions& options,
                                                       int64_t documents[3]);

// The document starts of one split.
class DocumentStarts {
 public:
  // Reads DIR/SPLIT.docs; NotFound when the directory has none (prepared
  // from a single file). `num_tokens` bounds the positions.
  static absl::StatusOr<DocumentStarts> Read(const std::string& dir, const std::string& split,
                                             int64_t num_tokens);

  const std::vector<int64_t>& starts() const { return starts_; }

  // resets [T, N] time-major: 1 where token (first_column + c) * stream_length
  // + position + t is a document start, else 0. No allocation.
  void Fill(int64_t stream_length, int64_t first_column, int64_t position, absl::Span<float> resets,
            int64_t steps, int64_t columns) const;

 private:
  std::vector<int64_t> starts_;
};

// The document starts of split SPLIT of the prepared directory DIR, bounded
// by the size of DIR/SPLIT.tok. What a `feed: RESETS` input needs, for the
// trainer and for `rnnflow eval` alike.
absl::StatusOr<DocumentStarts> ReadSplitDocuments(const std::string& dir, const std::string& split);

}  // namespace rnnflow

#endif  // RNNFLOW_DATASET_DOCUMENTS_H_
