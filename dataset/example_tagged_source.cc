// The `tagged` example format: part-of-speech corpora written as `word/TAG`
// tokens, one sentence per line, tokens separated by spaces or tabs (NLTK's
// Brown-corpus format; blank lines are skipped). A word may itself contain
// '/': the tag is what follows the LAST '/'. A record is one sentence, with
// pre-split tokens and one tag per token; it has no label.
//
// Tags are simplified by one documented rule: the orthographic suffixes the
// Brown annotators appended to a tag ("-tl" in a title, "-hl" in a headline,
// "-nc" cited, in any order) are dropped, so `nn-tl` is `nn`; every other
// part (`np$`, `ppss+md`, `fw-nn`, `dod*`) is kept.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/read_file.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_sources.h"

namespace rnnflow {
namespace {

std::string SimplifyTag(std::string tag) {
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const char* suffix : {"-tl", "-hl", "-nc"}) {
      if (tag.size() > 3 && absl::EndsWith(tag, suffix)) {
        tag.resize(tag.size() - 3);
        stripped = true;
      }
    }
  }
  return tag;
}

class TaggedSource : public ExampleSource {
 public:
  explicit TaggedSource(std::string path) : path_(std::move(path)) {}

  absl::Status ForEach(const ExampleSink& sink, ExampleSourceStats* stats) override {
    RF_ASSIGN_OR_RETURN(const std::string s, ReadFileToString(path_));
    size_t line_start = 0;
    int64_t line = 1;
    while (line_start < s.size()) {
      size_t line_end = s.find('\n', line_start);
      if (line_end == std::string::npos) line_end = s.size();
      RawExample ex;
      ex.pre_split = true;
      size_t i = line_start;
      while (i < line_end) {
        while (i < line_end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
        if (i >= line_end) break;
        const size_t begin = i;
        while (i < line_end && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') ++i;
        const std::string token = s.substr(begin, i - begin);
        const size_t slash = token.rfind('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == token.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat(PositionOf(path_, s, begin),
                           ": expected a word/TAG token (word, '/', tag); got '", token, "'"));
        }
        if (ex.tokens.empty()) {
          ex.line = line;
          ex.column = static_cast<int64_t>(begin - line_start) + 1;
        }
        ex.tokens.push_back(token.substr(0, slash));
        ex.tags.push_back(SimplifyTag(token.substr(slash + 1)));
      }
      if (!ex.tokens.empty()) {
        if (stats != nullptr) ++stats->records;
        RF_RETURN_IF_ERROR(sink(ex));
      }
      line_start = line_end + 1;
      ++line;
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
};

const bool kTaggedRegistered = [] {
  RegisterExampleFormat("tagged",
                        [](const std::string& path,
                           const ExampleFields&) -> absl::StatusOr<std::unique_ptr<ExampleSource>> {
                          return std::unique_ptr<ExampleSource>(new TaggedSource(path));
                        });
  return true;
}();

}  // namespace
}  // namespace rnnflow
