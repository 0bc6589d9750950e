// Document boundaries (dataset/documents.h): prepared from several files,
// turned into reset masks for streams, and fed by the trainer to a
// `feed: RESETS` input.
//
// Every document starts with '@' and '@' occurs nowhere else, so "the token
// is the first of a document" can be checked independently of the .docs
// files: reset[t, c] must be 1 exactly where the token fed is '@'.
#include "rnnflow/dataset/documents.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/token_streams.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  // Unique per test case: ctest runs the cases in parallel processes.
  const std::string dir = absl::StrCat(::testing::TempDir(), "/rnnflow_documents_", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Documents of varied lengths (some multi-byte characters, one without a
// final newline, one empty file that is no document).
std::string WriteDocuments(const std::string& name, int count) {
  const std::string dir = TempDir(name);
  for (int d = 0; d < count; ++d) {
    std::string text = "@";
    const int words = 3 + (d * 7) % 23;
    for (int w = 0; w < words; ++w) {
      absl::StrAppend(&text, w % 5 == 0 ? "caf\xc3\xa9 " : "word ", d, w % 9 == 0 ? ".\n" : " ");
    }
    if (d % 4 == 1) absl::StrAppend(&text, "\xf0\x9f\x98\x80");  // no final newline
    std::ofstream(absl::StrCat(dir, "/doc", 100 + d, ".txt")) << text;
  }
  std::ofstream(dir + "/empty.txt") << "";
  return dir;
}

int32_t MarkerId(const std::string& prepared) {
  auto vocab = ReadVocabulary(prepared);
  EXPECT_TRUE(vocab.ok()) << vocab.status();
  for (size_t i = 0; i < vocab->tokens.size(); ++i) {
    if (vocab->tokens[i] == "@") return static_cast<int32_t>(i);
  }
  ADD_FAILURE() << "no '@' in the vocabulary";
  return -1;
}

class DocumentsTest : public ::testing::TestWithParam<TextLevel> {};

TEST_P(DocumentsTest, DocsListExactlyTheFirstTokenOfEachDocument) {
  const std::string src = WriteDocuments(absl::StrCat("docs_src_", TextLevelName(GetParam())), 40);
  const std::string out = TempDir(absl::StrCat("docs_out_", TextLevelName(GetParam())));
  auto files = ListDocumentFiles({src});
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 41u);  // 40 documents and the empty file, by name
  EXPECT_THAT(files->front(), HasSubstr("doc100.txt"));
  TextPrepareOptions options;
  options.level = GetParam();
  options.valid_fraction = 0.2;
  options.test_fraction = 0.1;
  options.block_bytes = 64;  // many blocks: offsets straddle them
  int64_t docs[3];
  auto report = PrepareTextDocuments(*files, out, options, docs);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(docs[0] + docs[1] + docs[2], 40);
  EXPECT_GT(docs[1], 0);
  EXPECT_GT(docs[2], 0);
  EXPECT_FALSE(std::filesystem::exists(out + "/documents.txt"));
  std::ifstream meta(out + "/meta.json");
  std::string meta_text((std::istreambuf_iterator<char>(meta)), {});
  EXPECT_THAT(meta_text, HasSubstr("\"documents\": 40"));
  EXPECT_THAT(meta_text, HasSubstr("41 files: "));

  const int32_t marker = MarkerId(out);
  const char* const splits[3] = {"train", "valid", "test"};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(splits[i]);
    auto tok = TokenFile::Open(absl::StrCat(out, "/", splits[i], ".tok"));
    ASSERT_TRUE(tok.ok()) << tok.status();
    auto starts = DocumentStarts::Read(out, splits[i], (*tok)->size());
    ASSERT_TRUE(starts.ok()) << starts.status();
    EXPECT_EQ(static_cast<int64_t>(starts->starts().size()), docs[i]);
    std::vector<int64_t> markers;
    for (int64_t p = 0; p < (*tok)->size(); ++p) {
      if (static_cast<int32_t>((*tok)->at(p)) == marker) markers.push_back(p);
    }
    EXPECT_EQ(starts->starts(), markers);
  }
}

TEST_P(DocumentsTest, ResetMaskMarksDocumentStartsInEveryColumn) {
  const std::string src = WriteDocuments(absl::StrCat("mask_src_", TextLevelName(GetParam())), 30);
  const std::string out = TempDir(absl::StrCat("mask_out_", TextLevelName(GetParam())));
  auto files = ListDocumentFiles({src});
  ASSERT_TRUE(files.ok());
  TextPrepareOptions options;
  options.level = GetParam();
  int64_t docs[3];
  ASSERT_TRUE(PrepareTextDocuments(*files, out, options, docs).ok());
  const int32_t marker = MarkerId(out);
  constexpr int64_t kColumns = 4, kSteps = 7;
  auto starts_or = [&]() {
    auto tok = TokenFile::Open(out + "/train.tok");
    return DocumentStarts::Read(out, "train", (*tok)->size());
  }();
  ASSERT_TRUE(starts_or.ok()) << starts_or.status();
  const DocumentStarts& starts = *starts_or;
  // All columns, and a worker's share of them (columns 1 and 2).
  for (int64_t first : {0, 1}) {
    const int64_t n = first == 0 ? kColumns : 2;
    auto streams = TokenStreams::OpenPrepared(out, "train", kColumns, kSteps);
    ASSERT_TRUE(streams.ok()) << streams.status();
    if (first > 0) {
      ASSERT_TRUE((*streams)->SelectColumns(first, n).ok());
    }
    std::vector<int32_t> tokens(kSteps * n), targets(kSteps * n);
    std::vector<float> resets(kSteps * n, -1.f);
    int64_t marked = 0;
    for (int64_t chunk = 0; chunk < (*streams)->chunks_per_epoch(); ++chunk) {
      (*streams)->Next(absl::MakeSpan(tokens), absl::MakeSpan(targets));
      starts.Fill((*streams)->stream_length(), first, (*streams)->position() - kSteps,
                  absl::MakeSpan(resets), kSteps, n);
      for (int64_t e = 0; e < kSteps * n; ++e) {
        ASSERT_EQ(resets[e], tokens[e] == marker ? 1.f : 0.f)
            << "chunk " << chunk << " step " << e / n << " column " << e % n;
        marked += resets[e] == 1.f;
      }
    }
    EXPECT_GE(marked, first == 0 ? 10 : 4);
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, DocumentsTest,
                         ::testing::Values(TextLevel::kByte, TextLevel::kChar),
                         [](const ::testing::TestParamInfo<TextLevel>& info) {
                           return std::string(TextLevelName(info.param));
                         });

TEST(DocumentStartsTest, BadFilesAreClearErrors) {
  const std::string dir = TempDir("docs_bad");
  auto missing = DocumentStarts::Read(dir, "train", 10);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("several files"));
  std::ofstream(dir + "/train.docs") << "# starts\n0\n4\n3\n";
  auto unsorted = DocumentStarts::Read(dir, "train", 10);
  EXPECT_THAT(std::string(unsorted.status().message()),
              HasSubstr("train.docs:4:1: expected a token position in [0, 10) above the "
                        "previous one; got '3'"));
  std::ofstream(dir + "/train.docs") << "0\n12\n";
  EXPECT_THAT(std::string(DocumentStarts::Read(dir, "train", 10).status().message()),
              HasSubstr("train.docs:2:1"));
}

// The trainer fills a `feed: RESETS` input from the document starts; the
// fused LSTM consumes it.
constexpr char kModel[] = R"(
format_version: 1
name: "docs_lm"
input { name: "tokens"  dtype: INT32   dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32   dim: ["T", "N"] feed: NEXT_TOKENS }
input { name: "resets"  dtype: FLOAT32 dim: ["T", "N"] feed: RESETS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: ["embed", "", "", "", "resets"]
       attr { key: "hidden" value { i: 8 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training { truncation_steps: 9 streams_per_worker: 3 adam { } learning_rate { base: 0.01 } }
)";

TEST(DocumentsTrainerTest, FeedsResetsAtDocumentStarts) {
  const std::string src = WriteDocuments("trainer_src", 30);
  const std::string out = TempDir("trainer_out");
  auto files = ListDocumentFiles({src});
  ASSERT_TRUE(files.ok());
  int64_t docs[3];
  ASSERT_TRUE(PrepareTextDocuments(*files, out, TextPrepareOptions(), docs).ok());
  const int32_t marker = MarkerId(out);
  auto parsed = ParseModelText(kModel, "docs_lm.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  TrainerOptions options;
  options.data_path = out;
  options.steps = 10;
  auto trainer = Trainer::Create(*graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  int64_t marked = 0;
  for (int step = 0; step < 10; ++step) {
    ASSERT_TRUE((*trainer)->Step().ok());
    const Tensor tokens = *(*trainer)->session().input("tokens");
    const Tensor resets = *(*trainer)->session().input("resets");
    for (int64_t e = 0; e < tokens.num_elements(); ++e) {
      ASSERT_EQ(resets.f32()[e], tokens.i32()[e] == marker ? 1.f : 0.f) << "step " << step;
      marked += resets.f32()[e] == 1.f;
    }
  }
  EXPECT_GT(marked, 0);

  // A corpus prepared from one file has no boundaries: a clear error.
  const std::string single = TempDir("trainer_single");
  const std::string one_file = single + "/corpus.txt";
  std::ofstream(one_file) << std::string(5000, 'x');
  ASSERT_TRUE(PrepareText(one_file, single, TextPrepareOptions()).ok());
  options.data_path = single;
  auto refused = Trainer::Create(*graph, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("train.docs: no document boundaries (prepare the corpus from several "
                        "files"));
}

}  // namespace
}  // namespace rnnflow
