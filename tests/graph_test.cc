// Graph::Build's time axes: a graph input's leading symbol is its time
// symbol when it is T or followed by N ([S, N, ...]); sequences and per-step tensors carry theirs
// through shape inference and the schedule, and a node whose sequence inputs run over different
// axes is an error naming it and its inputs.
#include "rnnflow/graph/graph.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Built {
  LoadedModel file;
  absl::StatusOr<Graph> graph = absl::UnknownError("not built");
};

std::unique_ptr<Built> Build(const std::string& text) {
  auto b = std::make_unique<Built>();
  auto parsed = ParseModelText(text, "m.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return b;
  b->file = *std::move(parsed);
  b->graph = Graph::Build(b->file.model, b->file.source);
  return b;
}

// An encoder-decoder whose source runs over S and target over T.
constexpr char kPairs[] = R"(
format_version: 1
name: "pairs"
input { name: "src"     dtype: INT32 dim: ["S", "N"] feed: EXAMPLE_TOKENS }
input { name: "src_len" dtype: INT32 dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "t_in"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_INPUTS }
input { name: "t_out"   dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_OUTPUTS }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "enc" op: "LSTM" input: ["emb", "", "", "src_len"]
       attr { key: "hidden" value { i: 4 } } }
node { name: "temb" op: "Embedding" input: "t_in"
       attr { key: "vocab" value { i: 3 } } attr { key: "dim" value { i: 4 } } }
node { name: "dec" op: "LSTM" input: ["temb", "enc:1", "enc:2"]
       attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "dec" attr { key: "units" value { i: 3 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "t_out"] }
loss: "loss"
)";

TEST(GraphTest, SourceAndTargetCarryTheirOwnTimeSymbols) {
  auto b = Build(kPairs);
  ASSERT_TRUE(b->graph.ok()) << b->graph.status();
  const Graph& g = *b->graph;
  EXPECT_THAT(g.time_symbols(), ElementsAre("T", "S"));
  auto info = [&](const char* name) { return g.tensor(g.FindTensor(name)); };
  EXPECT_EQ(info("src").time, TimeKind::kSequence);
  EXPECT_EQ(info("src").time_symbol, "S");
  EXPECT_EQ(info("src_len").time, TimeKind::kStatic);
  EXPECT_EQ(info("emb").time_symbol, "S");
  EXPECT_EQ(ShapeToString(info("enc").shape), "[S,N,4]");
  EXPECT_EQ(info("enc:1").time, TimeKind::kStatic);  // the hand-off is static
  EXPECT_EQ(info("dec").time_symbol, "T");
  EXPECT_EQ(ShapeToString(info("logits").shape), "[T,N,3]");
}

TEST(GraphTest, ALeadingSymbolNotFollowedByNIsNoTimeAxis) {
  auto b = Build(absl::StrCat(kPairs, R"(input { name: "v" dtype: FLOAT32 dim: ["K"] }
input { name: "m" dtype: FLOAT32 dim: ["K", "4"] })"));
  ASSERT_TRUE(b->graph.ok()) << b->graph.status();
  EXPECT_THAT(b->graph->time_symbols(), ElementsAre("T", "S"));
  EXPECT_EQ(b->graph->tensor(b->graph->FindTensor("v")).time, TimeKind::kStatic);
  EXPECT_EQ(b->graph->tensor(b->graph->FindTensor("m")).time, TimeKind::kStatic);
}

TEST(GraphTest, OneSymbolModelsKeepT) {
  auto b = Build(absl::StrReplaceAll(kPairs, {{R"(["S", "N"])", R"(["T", "N"])"}}));
  ASSERT_TRUE(b->graph.ok()) << b->graph.status();
  EXPECT_THAT(b->graph->time_symbols(), ElementsAre("T"));
  EXPECT_EQ(b->graph->tensor(b->graph->FindTensor("enc")).time_symbol, "T");
}

TEST(GraphTest, MixingSourceAndTargetSequencesInOneNodeIsAnError) {
  const std::string text = absl::StrCat(kPairs, R"(
node { name: "mix" op: "Add" input: ["temb", "emb"] }
)");
  auto b = Build(text);
  ASSERT_FALSE(b->graph.ok());
  const std::string msg(b->graph.status().message());
  const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_THAT(msg, HasSubstr(absl::StrCat("m.pbtxt:", line, ":")));  // node 'mix'
  EXPECT_THAT(msg, HasSubstr("node 'mix' (Add): input 'b' ('emb') runs over time axis S but "
                             "input 'a' ('temb') runs over T"));
}

TEST(GraphTest, AFusedLayersResetsMustRunOverItsInputsAxis) {
  const std::string text = absl::StrReplaceAll(
      absl::StrCat(kPairs, R"(input { name: "resets" dtype: FLOAT32 dim: ["T", "N"] })"),
      {{R"(input: ["emb", "", "", "src_len"])", R"(input: ["emb", "", "", "src_len", "resets"])"}});
  auto b = Build(text);
  ASSERT_FALSE(b->graph.ok());
  EXPECT_THAT(b->graph.status().message(),
              HasSubstr("node 'enc' (LSTM): input 'resets' ('resets') runs over time axis T but "
                        "input 'x' ('emb') runs over S"));
}

// The textbook cell of tests/testdata over a source axis S.
constexpr char kCell[] = R"(
format_version: 1
name: "cell"
input { name: "x" dtype: FLOAT32 dim: ["S", "N", "1"] }
input { name: "target" dtype: FLOAT32 dim: ["S", "N", "1"] }
param { name: "w" shape: [1, 1] }
state { name: "h" dim: ["N", "1"] update: "h_t" }
node { name: "xw" op: "MatMul" input: ["x", "w"] }
node { name: "hw" op: "MatMul" input: ["h", "w"] }
node { name: "pre" op: "Add" input: ["xw", "hw"] }
node { name: "h_t" op: "Tanh" input: ["pre"] }
node { name: "loss" op: "MeanSquaredError" input: ["h_t", "target"] }
loss: "loss"
)";

TEST(GraphTest, ACustomRecurrenceRunsOverTheAxisOfWhatItReads) {
  auto b = Build(kCell);
  ASSERT_TRUE(b->graph.ok()) << b->graph.status();
  const Graph& g = *b->graph;
  const TensorInfo& h = g.tensor(g.FindTensor("h_t"));
  EXPECT_EQ(h.time, TimeKind::kStep);
  EXPECT_EQ(h.time_symbol, "S");
  EXPECT_EQ(ShapeToString(h.StackedShape()), "[S,N,1]");
  EXPECT_EQ(g.tensor(g.FindTensor("h")).time_symbol, "S");
  int recurrent = 0;
  for (const Segment& seg : g.segments()) {
    if (!seg.recurrent) continue;
    ++recurrent;
    EXPECT_EQ(seg.time_symbol, "S");
  }
  EXPECT_EQ(recurrent, 1);
}

// A node outside the recurrence reads a per-step value ("probe", before
// "pre" in topological order) before the node that decides the recurrence's
// axis: the axis is still S.
TEST(GraphTest, ARecurrencesAxisIsDecidedBeforeAnyoneOutsideReadsIt) {
  auto b = Build(R"(
format_version: 1
input { name: "x" dtype: FLOAT32 dim: ["S", "N", "1"] }
param { name: "w" shape: [1, 1] }
state { name: "h" dim: ["N", "1"] update: "h_t" }
node { name: "hw" op: "MatMul" input: ["h", "w"] }
node { name: "probe" op: "Tanh" input: ["hw"] }
node { name: "xw" op: "MatMul" input: ["x", "w"] }
node { name: "pre" op: "Add" input: ["xw", "hw"] }
node { name: "h_t" op: "Tanh" input: ["pre"] }
node { name: "loss" op: "MeanSquaredError" input: ["probe", "x"] }
loss: "loss"
)");
  ASSERT_TRUE(b->graph.ok()) << b->graph.status();
  EXPECT_EQ(ShapeToString(b->graph->tensor(b->graph->FindTensor("probe")).shape), "[S,N,1]");
}

TEST(GraphTest, ARecurrenceReadingTwoAxesIsAnError) {
  auto b = Build(R"(
format_version: 1
input { name: "x" dtype: FLOAT32 dim: ["S", "N", "1"] }
input { name: "y" dtype: FLOAT32 dim: ["T", "N", "1"] }
param { name: "w" shape: [1, 1] }
state { name: "h" dim: ["N", "1"] update: "h_t" }
node { name: "xw" op: "MatMul" input: ["x", "w"] }
node { name: "yw" op: "MatMul" input: ["y", "w"] }
node { name: "hw" op: "MatMul" input: ["h", "w"] }
node { name: "a" op: "Add" input: ["xw", "hw"] }
node { name: "h_t" op: "Add" input: ["a", "yw"] }
node { name: "loss" op: "MeanSquaredError" input: ["h_t", "x"] }
loss: "loss"
)");
  ASSERT_FALSE(b->graph.ok());
  EXPECT_THAT(b->graph.status().message(),
              HasSubstr("node 'h_t' (Add): input 'b' ('yw') runs over time axis T but the "
                        "recurrence it is on runs over S"));
}

TEST(GraphTest, ALossOnARecurrenceOverSAndATargetOverTIsAnError) {
  auto b = Build(absl::StrReplaceAll(kCell, {{R"(name: "target" dtype: FLOAT32 dim: ["S")",
                                              R"(name: "target" dtype: FLOAT32 dim: ["T")"}}));
  ASSERT_FALSE(b->graph.ok());
  EXPECT_THAT(b->graph.status().message(),
              HasSubstr("node 'loss' (MeanSquaredError): input 'targets' ('target') runs over "
                        "time axis T but input 'predictions' ('h_t') runs over S"));
}

}  // namespace
}  // namespace rnnflow
