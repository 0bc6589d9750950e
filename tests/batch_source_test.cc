// The batch-source interface (training/batch_source.h) on each of its
// sources, opened by the factory from a model's feeds: the position after N
// batches, that seeking back feeds the same batches again (what an exact
// resume rests on), whether state is carried, and that a validation pass
// covers its split.
#include "rnnflow/training/batch_source.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dataset/documents.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dataset/series_reader.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/batch_source_factory.h"
#include "tests/testing/toy_dictionary.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/rnnflow_batch_source_", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A model, its session and the sources the factory opens for it.
struct Opened {
  LoadedModel model;
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Session> session;
  BatchSources sources;
};

std::unique_ptr<Opened> Open(const char* model_text, const BatchSourceOptions& options) {
  auto o = std::make_unique<Opened>();
  auto parsed = ParseModelText(model_text, "model.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return nullptr;
  o->model = *std::move(parsed);
  auto graph = Graph::Build(o->model.model, o->model.source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return nullptr;
  o->graph = std::make_unique<Graph>(*std::move(graph));
  auto bindings = BatchBindings(*o->graph, options);
  EXPECT_TRUE(bindings.ok()) << bindings.status();
  if (!bindings.ok()) return nullptr;
  SessionOptions so;
  so.bindings = *bindings;
  auto session = Session::Create(*o->graph, so);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return nullptr;
  o->session = *std::move(session);
  auto sources = OpenBatchSources(*o->session, options);
  EXPECT_TRUE(sources.ok()) << sources.status();
  if (!sources.ok()) return nullptr;
  o->sources = *std::move(sources);
  return o;
}

// Every graph input's bytes after a FeedNext: the batch as the model sees it.
std::string Fed(const Session& session) {
  std::string bytes;
  for (int id : session.graph().graph_inputs()) {
    const Tensor t = session.value(id);
    bytes.append(static_cast<const char*>(t.data()), t.num_bytes());
  }
  return bytes;
}

// Feeds `skip` batches, records `count` more with their positions, seeks
// back to where the recorded ones began and checks that they come again,
// each leaving the same position behind.
void ExpectSeekRepeats(BatchSource& source, Session& session, int skip, int count) {
  ASSERT_TRUE(source.Seek(0).ok());
  for (int i = 0; i < skip; ++i) source.FeedNext(session);
  const int64_t from = source.position();
  std::vector<std::string> batches;
  std::vector<int64_t> positions;
  std::vector<bool> zeroed;
  for (int i = 0; i < count; ++i) {
    zeroed.push_back(source.FeedNext(session).zero_states);
    batches.push_back(Fed(session));
    positions.push_back(source.position());
  }
  source.FeedNext(session);  // somewhere else, then back
  ASSERT_TRUE(source.Seek(from).ok());
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(source.FeedNext(session).zero_states, zeroed[i]) << "batch " << skip + i;
    EXPECT_EQ(Fed(session), batches[i]) << "batch " << skip + i;
    EXPECT_EQ(source.position(), positions[i]) << "batch " << skip + i;
  }
}

// A position no batch can start at is an error and leaves the source where
// it was.
void ExpectBadSeekIsAnError(BatchSource& source, int64_t bad) {
  const int64_t before = source.position();
  const absl::Status s = source.Seek(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("position ", bad)));
  EXPECT_EQ(source.position(), before);
}

// --- token streams -----------------------------------------------------------

constexpr char kByteLm[] = R"(
format_version: 1
name: "byte_lm"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 4 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

// Byte i of the corpus is i mod 251, so a token tells where it was read.
std::string WriteCountingCorpus(const std::string& name, int bytes) {
  const std::string path = TempDir(name) + "/corpus.txt";
  std::string text(bytes, '\0');
  for (int i = 0; i < bytes; ++i) text[i] = static_cast<char>(i % 251);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(TokenBatchSourceTest, PositionSeekAndAValidationPassOverEveryStream) {
  BatchSourceOptions o;
  o.data = WriteCountingCorpus("tokens", 5000);  // train: 4500 bytes, valid: 500
  o.steps = 7;
  o.streams = 3;
  auto m = Open(kByteLm, o);
  ASSERT_NE(m, nullptr);
  BatchSource& train = *m->sources.train;
  Session& session = *m->session;
  EXPECT_TRUE(train.carries_state());
  EXPECT_TRUE(train.reads_own_columns());
  EXPECT_STREQ(train.unit(), "tokens");
  EXPECT_EQ(train.units_per_batch(), 7 * 3);
  EXPECT_EQ(train.DescribeBatch(), "T=7 steps x N=3 streams x 1 worker = 21 tokens per update");
  const int64_t L = train.length();  // tokens per stream
  EXPECT_EQ(L, (4500 - 1) / 3);
  const int64_t chunks = L / 7;

  // N batches advance N x T; the first of each pass zeroes the states.
  EXPECT_EQ(train.position(), 0);
  EXPECT_TRUE(train.FeedNext(session).zero_states);
  for (int i = 1; i < 10; ++i) EXPECT_FALSE(train.FeedNext(session).zero_states);
  EXPECT_EQ(train.position(), 10 * 7);
  ASSERT_TRUE(train.Seek((chunks - 1) * 7).ok());
  EXPECT_FALSE(train.FeedNext(session).zero_states);  // the last whole chunk
  EXPECT_TRUE(train.FeedNext(session).zero_states);   // a new pass
  EXPECT_EQ(train.position(), 7);

  ExpectSeekRepeats(train, session, 5, 4);
  ExpectSeekRepeats(train, session, static_cast<int>(chunks) - 2, 4);  // across the wrap
  ExpectBadSeekIsAnError(train, -1);
  ExpectBadSeekIsAnError(train, L + 1);

  // A pass over the valid split: every stream read from its start, whole
  // chunks only, each continuing the one before.
  ASSERT_NE(m->sources.valid, nullptr);
  BatchSource& valid = *m->sources.valid;
  const int64_t VL = valid.length();
  EXPECT_EQ(VL, (500 - 1) / 3);
  const int64_t pass = valid.PassBatches(0);
  EXPECT_EQ(pass, VL / 7);
  EXPECT_EQ(valid.PassBatches(3), 3);
  EXPECT_EQ(valid.PassBatches(1000), pass);
  ASSERT_TRUE(valid.Seek(0).ok());
  std::vector<std::vector<int32_t>> columns(3);
  for (int64_t b = 0; b < pass; ++b) {
    valid.FeedNext(session);
    const Tensor tokens = *session.value("tokens");
    const Tensor targets = *session.value("targets");
    for (int64_t t = 0; t < 7; ++t) {
      for (int64_t c = 0; c < 3; ++c) {
        columns[c].push_back(tokens.i32()[t * 3 + c]);
        ASSERT_EQ(targets.i32()[t * 3 + c], (tokens.i32()[t * 3 + c] + 1) % 251);
      }
    }
  }
  const int32_t first = columns[0][0];
  for (int64_t c = 0; c < 3; ++c) {
    ASSERT_EQ(static_cast<int64_t>(columns[c].size()), pass * 7);
    for (int64_t j = 0; j < pass * 7; ++j) {
      ASSERT_EQ(columns[c][j], (first + c * VL + j) % 251) << "stream " << c << " token " << j;
    }
  }
  EXPECT_EQ(valid.position(), pass * 7);

  auto ev = Evaluate(session, valid, pass);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->batches, pass);
  EXPECT_GT(ev->loss, 0);
  EXPECT_FALSE(ev->has_accuracy);
}

TEST(TokenBatchSourceTest, TwoRanksReadTheColumnsOfOne) {
  BatchSourceOptions o;
  o.data = WriteCountingCorpus("tokens_ranks", 3000);
  o.steps = 5;
  o.streams = 4;
  auto one = Open(kByteLm, o);
  ASSERT_NE(one, nullptr);
  o.streams = 2;
  o.ranks = 2;
  std::unique_ptr<Opened> two[2];
  for (int r = 0; r < 2; ++r) {
    o.rank = r;
    two[r] = Open(kByteLm, o);
    ASSERT_NE(two[r], nullptr);
    EXPECT_EQ(two[r]->sources.train->length(), one->sources.train->length());
    EXPECT_EQ(two[r]->sources.train->DescribeBatch(),
              "T=5 steps x N=2 streams x 2 workers = 20 tokens per update");
  }
  for (int b = 0; b < 3; ++b) {
    one->sources.train->FeedNext(*one->session);
    const Tensor all = *one->session->value("tokens");
    for (int r = 0; r < 2; ++r) {
      two[r]->sources.train->FeedNext(*two[r]->session);
      const Tensor mine = *two[r]->session->value("tokens");
      for (int64_t t = 0; t < 5; ++t) {
        for (int64_t c = 0; c < 2; ++c) {
          ASSERT_EQ(mine.i32()[t * 2 + c], all.i32()[t * 4 + r * 2 + c]);
        }
      }
    }
  }
}

constexpr char kDocsLm[] = R"(
format_version: 1
name: "docs_lm"
input { name: "tokens"  dtype: INT32   dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32   dim: ["T", "N"] feed: NEXT_TOKENS }
input { name: "resets"  dtype: FLOAT32 dim: ["T", "N"] feed: RESETS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 4 } } }
node { name: "lstm" op: "LSTM" input: ["embed", "", "", "", "resets"]
       attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
)";

// Documents seek back with their resets: the masks fed again are the same.
TEST(TokenBatchSourceTest, DocumentResetsComeBackWithTheirChunks) {
  const std::string src = TempDir("docs_src");
  for (int d = 0; d < 24; ++d) {
    std::string text = "@";
    for (int w = 0; w < 4 + (d * 5) % 17; ++w) absl::StrAppend(&text, "word", d % 7, " ");
    std::ofstream(absl::StrCat(src, "/doc", 100 + d, ".txt")) << text;
  }
  auto files = ListDocumentFiles({src});
  ASSERT_TRUE(files.ok()) << files.status();
  const std::string out = TempDir("docs_out");
  TextPrepareOptions prep;
  prep.level = TextLevel::kByte;
  prep.valid_fraction = 0.2;
  prep.test_fraction = 0;
  int64_t docs[3];
  ASSERT_TRUE(PrepareTextDocuments(*files, out, prep, docs).ok());
  BatchSourceOptions o;
  o.data = out;
  o.steps = 6;
  o.streams = 3;
  auto m = Open(kDocsLm, o);
  ASSERT_NE(m, nullptr);
  BatchSource& train = *m->sources.train;
  float marked = 0;
  for (int b = 0; b < 20; ++b) {
    train.FeedNext(*m->session);
    const Tensor resets = *m->session->value("resets");
    for (int64_t i = 0; i < resets.num_elements(); ++i) marked += resets.f32()[i];
  }
  EXPECT_GT(marked, 0) << "no document start in 20 chunks";
  ExpectSeekRepeats(train, *m->session, 3, 15);

  // A model fed RESETS needs documents: a corpus prepared from one text has
  // none, and the error says what to do.
  BatchSourceOptions one_text;
  one_text.data = WriteCountingCorpus("docs_one", 2000);
  one_text.steps = 6;
  one_text.streams = 3;
  auto parsed = ParseModelText(kDocsLm, "model.pbtxt");
  ASSERT_TRUE(parsed.ok());
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok());
  SessionOptions so;
  so.bindings = *BatchBindings(*graph, one_text);
  auto session = Session::Create(*graph, so);
  ASSERT_TRUE(session.ok());
  auto sources = OpenBatchSources(**session, one_text);
  ASSERT_FALSE(sources.ok());
  EXPECT_THAT(
      std::string(sources.status().message()),
      HasSubstr("graph input 'resets' (feed: RESETS) needs a corpus prepared as documents"));
}

// --- series: streams and windows --------------------------------------------

constexpr char kSeriesModel[] = R"(
format_version: 1
name: "series"
input { name: "x"    dtype: FLOAT32 dim: ["T", "N", "1"] feed: SERIES }
input { name: "next" dtype: FLOAT32 dim: ["T", "N", "1"] feed: NEXT_SERIES }
node { name: "lstm" op: "LSTM" input: "x" attr { key: "hidden" value { i: 4 } } }
node { name: "pred" op: "Dense" input: "lstm" attr { key: "units" value { i: 1 } } }
node { name: "loss" op: "MeanSquaredError" input: ["pred", "next"] }
loss: "loss"
)";

// Row r of the series holds r: train rows 0-139, valid 140-179, test 180-199.
std::string PrepareRamp(const std::string& name) {
  const std::string dir = TempDir(name);
  {
    std::ofstream out(dir + "/ramp.csv");
    out << "v\n";
    for (int r = 0; r < 200; ++r) out << r << "\n";
  }
  SeriesPrepareOptions prep;
  prep.columns = {"v"};
  prep.valid_fraction = 0.2;
  prep.test_fraction = 0.1;
  EXPECT_TRUE(PrepareSeries(dir + "/ramp.csv", dir + "/prep", prep).ok());
  return dir + "/prep";
}

int64_t Row(const SeriesFile& file, float z) { return std::lround(file.Denormalize(0, z)); }

TEST(SeriesBatchSourceTest, PositionSeekAndAValidationPassOverEveryStream) {
  BatchSourceOptions o;
  o.data = PrepareRamp("series");
  o.steps = 4;
  o.streams = 3;
  auto m = Open(kSeriesModel, o);
  ASSERT_NE(m, nullptr);
  auto file = SeriesFile::Open(o.data + "/series.f32");
  ASSERT_TRUE(file.ok()) << file.status();
  BatchSource& train = *m->sources.train;
  Session& session = *m->session;
  EXPECT_TRUE(train.carries_state());
  EXPECT_STREQ(train.unit(), "rows");
  EXPECT_EQ(train.length(), (140 - 1) / 3);
  for (int i = 0; i < 6; ++i) train.FeedNext(session);
  EXPECT_EQ(train.position(), 6 * 4);
  ExpectSeekRepeats(train, session, 2, 12);  // 46 rows per stream: 11 chunks, then a new pass
  ExpectBadSeekIsAnError(train, train.length() + 1);

  ASSERT_NE(m->sources.valid, nullptr);
  BatchSource& valid = *m->sources.valid;
  const int64_t VL = valid.length();
  EXPECT_EQ(VL, (40 - 1) / 3);
  const int64_t pass = valid.PassBatches(0);
  EXPECT_EQ(pass, VL / 4);
  ASSERT_TRUE(valid.Seek(0).ok());
  for (int64_t b = 0; b < pass; ++b) {
    valid.FeedNext(session);
    const Tensor x = *session.value("x");
    const Tensor next = *session.value("next");
    for (int64_t t = 0; t < 4; ++t) {
      for (int64_t c = 0; c < 3; ++c) {
        const int64_t row = 140 + c * VL + b * 4 + t;
        ASSERT_EQ(Row(**file, x.f32()[t * 3 + c]), row) << "batch " << b;
        ASSERT_EQ(Row(**file, next.f32()[t * 3 + c]), row + 1);
      }
    }
  }
  auto ev = Evaluate(session, valid, pass);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->batches, pass);
  EXPECT_EQ(valid.LossNote(*ev), " (normalised units)");
}

TEST(WindowBatchSourceTest, PositionSeekAndAValidationPassOverEveryWindow) {
  BatchSourceOptions o;
  o.data = PrepareRamp("windows");
  o.steps = 5;
  o.window = 5;
  o.streams = 4;
  o.seed = 8;
  auto m = Open(kSeriesModel, o);
  ASSERT_NE(m, nullptr);
  auto file = SeriesFile::Open(o.data + "/series.f32");
  ASSERT_TRUE(file.ok());
  BatchSource& train = *m->sources.train;
  Session& session = *m->session;
  EXPECT_FALSE(train.carries_state());
  EXPECT_EQ(train.length(), 140 - 5);  // window starts in an epoch
  EXPECT_EQ(train.units_per_batch(), 5 * 4);
  EXPECT_THAT(train.DescribeBatch(), HasSubstr("N=4 windows of W=5 rows x 1 worker"));
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(train.FeedNext(session).zero_states);
  EXPECT_EQ(train.position(), 7);
  ExpectSeekRepeats(train, session, 30, 8);  // 33.75 batches per epoch: across it
  ExpectBadSeekIsAnError(train, -2);

  // Valid: windows in order, whole global batches only.
  ASSERT_NE(m->sources.valid, nullptr);
  BatchSource& valid = *m->sources.valid;
  EXPECT_EQ(valid.length(), 40 - 5);
  const int64_t pass = valid.PassBatches(0);
  EXPECT_EQ(pass, 35 / 4);
  EXPECT_EQ(valid.PassBatches(2), 2);
  ASSERT_TRUE(valid.Seek(0).ok());
  for (int64_t b = 0; b < pass; ++b) {
    valid.FeedNext(session);
    const Tensor x = *session.value("x");
    for (int64_t t = 0; t < 5; ++t) {
      for (int64_t j = 0; j < 4; ++j) {
        ASSERT_EQ(Row(**file, x.f32()[t * 4 + j]), 140 + b * 4 + j + t) << "batch " << b;
      }
    }
  }
  auto ev = Evaluate(session, valid, pass);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->batches, pass);
}

// --- labelled examples and pairs ---------------------------------------------

constexpr char kTagger[] = R"(
format_version: 1
name: "tagger"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "tags"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TAGS }
input { name: "lengths" dtype: INT32 dim: ["N"] feed: EXAMPLE_LENGTHS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 16 } } attr { key: "dim" value { i: 4 } } }
node { name: "gru" op: "GRU" input: ["embed", "", "lengths"] attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "gru" attr { key: "units" value { i: 2 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "tags"] }
loss: "loss"
)";

// 40 examples of 2-9 words (30 train, 10 valid: split by a hash of each).
std::string PrepareTagged(const std::string& name) {
  const std::string dir = TempDir(name);
  std::string json = "[";
  for (int i = 0; i < 40; ++i) {
    std::string words, tags;
    for (int t = 0; t < 2 + (i * 3) % 8; ++t) {
      words += std::string(t ? "\", \"" : "\"") + "w" + std::to_string((i + t) % 9);
      tags += std::string(t ? "\", \"" : "\"") + ((i + t) % 2 ? "y" : "n");
    }
    json += std::string(i ? "," : "") + "{\"w\": [" + words + "\"], \"t\": [" + tags + "\"]}";
  }
  std::ofstream(dir + "/in.json") << json << "]";
  ExamplePrepareOptions o;
  o.fields.text = "w";
  o.fields.tags = "t";
  o.fields.label = "";
  o.valid_fraction = 0.2;
  o.test_fraction = 0;
  o.deduplicate = false;
  EXPECT_TRUE(PrepareExamples({dir + "/in.json"}, dir + "/prep", o).ok());
  return dir + "/prep";
}

// A validation pass scores every example of the split once, in file order,
// the last batch partly empty.
void ExpectPassCoversTheSplit(BatchSource& valid, Session& session, const std::string& data,
                              int64_t n, int64_t steps) {
  auto file = ExampleFile::Open(data + "/valid.ex");
  ASSERT_TRUE(file.ok()) << file.status();
  const int64_t size = (*file)->size();
  EXPECT_EQ(valid.length(), size);
  EXPECT_FALSE(valid.reads_own_columns());    // every worker scores all of it
  const int64_t pass = valid.PassBatches(1);  // a bound does not cut examples' passes
  EXPECT_EQ(pass, (size + n - 1) / n);
  ASSERT_TRUE(valid.Seek(0).ok());
  for (int64_t b = 0; b < pass; ++b) {
    const BatchFeed feed = valid.FeedNext(session);
    EXPECT_TRUE(feed.zero_states);
    EXPECT_EQ(feed.examples, std::min(n, size - b * n));
    const Tensor lengths = *session.value("lengths");
    for (int64_t k = 0; k < n && b * n + k < size; ++k) {
      EXPECT_EQ(lengths.i32()[k], std::min(steps, (*file)->length(b * n + k)));
    }
  }
  ASSERT_TRUE(valid.Seek(0).ok());
  auto ev = Evaluate(session, valid, pass);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->examples, size);
  EXPECT_EQ(ev->batches, pass);
  EXPECT_THAT(valid.LossNote(*ev), HasSubstr(absl::StrCat(" over ", size, " examples")));
  EXPECT_THAT(valid.MetricFields(*ev), HasSubstr(absl::StrCat("\"valid_examples\": ", size)));
}

TEST(ExampleBatchSourceTest, PositionSeekAndAValidationPassOverEveryExample) {
  BatchSourceOptions o;
  o.data = PrepareTagged("examples");
  o.steps = 6;
  o.streams = 3;
  o.seed = 4;
  o.bucket_window = 2;
  auto m = Open(kTagger, o);
  ASSERT_NE(m, nullptr);
  BatchSource& train = *m->sources.train;
  Session& session = *m->session;
  EXPECT_FALSE(train.carries_state());
  EXPECT_TRUE(train.has_accuracy());
  EXPECT_STREQ(train.unit(), "examples");
  EXPECT_EQ(train.units_per_batch(), 3);
  EXPECT_EQ(train.length(), 30);
  for (int i = 0; i < 5; ++i) {
    const BatchFeed feed = train.FeedNext(session);
    EXPECT_TRUE(feed.zero_states);
    EXPECT_GT(feed.weight, 0);
  }
  EXPECT_EQ(train.position(), 5);
  ExpectSeekRepeats(train, session, 8, 5);  // 10 batches per epoch: across it
  ExpectBadSeekIsAnError(train, -1);
  EXPECT_THAT(train.DescribeData(m->sources.valid.get()),
              HasSubstr("examples: 30 train, 10 valid, 10 batches of 3"));

  ASSERT_NE(m->sources.valid, nullptr);
  ExpectPassCoversTheSplit(*m->sources.valid, session, o.data, 3, 6);
}

constexpr char kPairs[] = R"(
format_version: 1
name: "pairs"
input { name: "src"     dtype: INT32 dim: ["S", "N"] feed: EXAMPLE_TOKENS }
input { name: "lengths" dtype: INT32 dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "t_in"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_INPUTS }
input { name: "t_out"   dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_OUTPUTS }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "enc" op: "GRU" input: ["emb", "", "lengths"] attr { key: "hidden" value { i: 4 } } }
node { name: "temb" op: "Embedding" input: "t_in"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "dec" op: "GRU" input: ["temb", "enc:1"] attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "dec" attr { key: "units" value { i: 8 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "t_out"] }
loss: "loss"
)";

TEST(ExampleBatchSourceTest, PairsBindTheirSourceStepsAndSeekBack) {
  const std::string dir = TempDir("pairs");
  WriteToyDictionary(dir + "/dict.txt", 30, 6);
  const ExamplePrepareOptions p = ToyDictionaryPrepareOptions();
  ASSERT_TRUE(PrepareExamples({dir + "/dict.txt"}, dir + "/prep", p).ok());
  BatchSourceOptions o;
  o.data = dir + "/prep";
  o.steps = 5;
  o.streams = 4;
  auto bindings = [&] {
    auto parsed = ParseModelText(kPairs, "model.pbtxt");
    EXPECT_TRUE(parsed.ok());
    auto graph = Graph::Build(parsed->model, parsed->source);
    EXPECT_TRUE(graph.ok());
    return *BatchBindings(*graph, o);
  };
  EXPECT_EQ(bindings().at("S"), 7);  // the longest source of train and valid
  EXPECT_EQ(bindings().at("T"), 5);
  EXPECT_EQ(bindings().at("N"), 4);
  o.source_steps = 3;
  EXPECT_EQ(bindings().at("S"), 3);
  auto m = Open(kPairs, o);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->session->value("src")->dim(0), 3);
  BatchSource& train = *m->sources.train;
  for (int i = 0; i < 4; ++i) train.FeedNext(*m->session);
  EXPECT_EQ(train.position(), 4);
  ExpectSeekRepeats(train, *m->session, 5, 6);
  EXPECT_THAT(train.DescribeData(nullptr), HasSubstr("longer than 3 source steps"));
  ASSERT_NE(m->sources.valid, nullptr);
  ExpectPassCoversTheSplit(*m->sources.valid, *m->session, o.data, 4, 3);
}

// --- the factory -------------------------------------------------------------

TEST(BatchSourceFactoryTest, FeedsChooseTheSourceAndMixedFeedsAreErrors) {
  BatchSourceOptions o;
  o.data = WriteCountingCorpus("factory", 2000);
  o.validate = false;
  auto m = Open(kByteLm, o);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->sources.valid, nullptr);  // not asked for

  auto error = [&](const std::string& text) {
    auto parsed = ParseModelText(text, "model.pbtxt");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    auto graph = Graph::Build(parsed->model, parsed->source);
    EXPECT_TRUE(graph.ok()) << graph.status();
    auto b = BatchBindings(*graph, o);
    EXPECT_FALSE(b.ok());
    return std::string(b.status().message());
  };
  const std::string series_and_tokens = absl::StrCat(
      kSeriesModel, R"(input { name: "tok" dtype: INT32 dim: ["T", "N"] feed: TOKENS })");
  EXPECT_THAT(error(series_and_tokens), HasSubstr("and no token inputs"));
  const std::string examples_and_tokens =
      absl::StrCat(kTagger, R"(input { name: "tok" dtype: INT32 dim: ["T", "N"] feed: TOKENS })");
  EXPECT_THAT(error(examples_and_tokens), HasSubstr("cannot also take TOKENS"));
  o.window = 8;
  EXPECT_THAT(error(kByteLm),
              HasSubstr("a window of 8 rows, set by training.window or TrainerOptions::window, "
                        "applies to models fed SERIES only"));
}

}  // namespace
}  // namespace rnnflow
