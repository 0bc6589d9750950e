// Filling a session's EXAMPLE_* inputs: padding, lengths, truncation, empty
// slots, labels, weights and tags; input checks against the prepared data.
#include "rnnflow/training/example_feed.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Every feed at once; the loss is per-step on the tags.
constexpr char kModel[] = R"(
format_version: 1
name: "feeds"
input { name: "tokens"  dtype: INT32   dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "lengths" dtype: INT32   dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "label"   dtype: INT32   dim: ["N"]      feed: EXAMPLE_LABEL }
input { name: "weight"  dtype: FLOAT32 dim: ["T", "N", "1"] feed: EXAMPLE_WEIGHTS }
input { name: "tags"    dtype: INT32   dim: ["T", "N"] feed: EXAMPLE_TAGS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 10 } } attr { key: "dim" value { i: 3 } } }
node { name: "logits" op: "Dense" input: "embed" attr { key: "units" value { i: 4 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "tags"] }
loss: "loss"
)";

struct Fixture {
  LoadedModel loaded;
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Session> session;
};

Fixture Make(const char* text, int64_t T, int64_t N) {
  Fixture f;
  auto parsed = ParseModelText(text, "feeds.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  f.loaded = *std::move(parsed);
  auto g = Graph::Build(f.loaded.model, f.loaded.source);
  EXPECT_TRUE(g.ok()) << g.status();
  f.graph = std::make_unique<Graph>(*std::move(g));
  SessionOptions so;
  so.bindings = {{"T", T}, {"N", N}};
  so.training = false;
  auto s = Session::Create(*f.graph, so);
  EXPECT_TRUE(s.ok()) << s.status();
  f.session = *std::move(s);
  return f;
}

std::vector<int32_t> Ints(const Tensor& t) { return {t.i32(), t.i32() + t.num_elements()}; }
std::vector<float> Floats(const Tensor& t) { return {t.f32(), t.f32() + t.num_elements()}; }

ExampleFileInfo Info() {
  ExampleFileInfo info;
  info.label_kind = LabelKind::kClass;
  info.label_width = 1;
  info.has_tags = true;
  info.vocab_size = 10;
  info.num_classes = 3;
  info.num_tags = 4;
  return info;
}

TEST(ExampleFeedTest, PadsTruncatesAndMasksEmptySlots) {
  Fixture f = Make(kModel, 4, 3);
  auto feeder = ExampleFeeder::Create(*f.session, Info(), "data");
  ASSERT_TRUE(feeder.ok()) << feeder.status();
  const std::vector<int32_t> t0 = {5, 6}, g0 = {1, 2};
  const std::vector<int32_t> t1 = {2, 3, 4, 5, 6, 7}, g1 = {0, 1, 2, 3, 0, 1};  // longer than T
  std::vector<ExampleRef> refs(3);
  refs[0].present = true;
  refs[0].tokens = t0;
  refs[0].tags = g0;
  refs[0].label = 2;
  refs[1].present = true;
  refs[1].tokens = t1;
  refs[1].tags = g1;
  refs[1].label = 0;
  // refs[2]: an empty slot.
  const FeedStats st = (*feeder)->Fill(refs, true, *f.session);
  EXPECT_EQ(st.examples, 2);
  EXPECT_EQ(st.truncated, 1);
  EXPECT_EQ(st.loss_count, 2 + 4);  // per step: min(length, T)
  const Session& s = *f.session;
  // [T, N] time-major: row t holds the 3 slots.
  EXPECT_THAT(Ints(*s.input("tokens")), ElementsAre(5, 2, 0,  //
                                                    6, 3, 0,  //
                                                    0, 4, 0,  //
                                                    0, 5, 0));
  EXPECT_THAT(Ints(*s.input("lengths")), ElementsAre(2, 4, 1));
  EXPECT_THAT(Ints(*s.input("label")), ElementsAre(2, 0, -1));
  EXPECT_THAT(Ints(*s.input("tags")), ElementsAre(1, 0, -1,   //
                                                  2, 1, -1,   //
                                                  -1, 2, -1,  //
                                                  -1, 3, -1));
  EXPECT_THAT(Floats(*s.input("weight")), ElementsAre(1, 1, 0,  //
                                                      1, 1, 0,  //
                                                      0, 1, 0,  //
                                                      0, 1, 0));
}

TEST(ExampleFeedTest, FloatLabelsFromClassesAndPerExampleWeights) {
  constexpr char kSigmoid[] = R"(
format_version: 1
name: "sig"
input { name: "tokens" dtype: INT32   dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "label"  dtype: FLOAT32 dim: ["1", "N", "1"] feed: EXAMPLE_LABEL }
input { name: "weight" dtype: FLOAT32 dim: ["1", "N", "1"] feed: EXAMPLE_WEIGHTS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 10 } } attr { key: "dim" value { i: 3 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 2 } } }
node { name: "logit" op: "Dense" input: "lstm:1" attr { key: "units" value { i: 1 } } }
node { name: "loss" op: "SigmoidCrossEntropy" input: ["logit", "label", "weight"] }
loss: "loss"
)";
  Fixture f = Make(kSigmoid, 3, 2);
  auto feeder = ExampleFeeder::Create(*f.session, Info(), "data");
  ASSERT_TRUE(feeder.ok()) << feeder.status();
  EXPECT_TRUE((*feeder)->has_accuracy());
  EXPECT_FALSE((*feeder)->loss_per_step());
  const std::vector<int32_t> t0 = {4, 4, 4, 4};
  std::vector<ExampleRef> refs(2);
  refs[1].present = true;
  refs[1].tokens = t0;
  refs[1].label = 1;
  const FeedStats st = (*feeder)->Fill(refs, true, *f.session);
  EXPECT_EQ(st.loss_count, 1);
  EXPECT_THAT(Floats(*f.session->input("label")), ElementsAre(0, 1));
  EXPECT_THAT(Floats(*f.session->input("weight")), ElementsAre(0, 1));
  // Accuracy counts only the weighted slot.
  ASSERT_TRUE(f.session->Forward().ok());
  const Score score = (*feeder)->Accuracy(*f.session);
  EXPECT_EQ(score.total, 1);
}

TEST(ExampleFeedTest, InputsAreCheckedAgainstTheData) {
  Fixture f = Make(kModel, 4, 3);
  ExampleFileInfo info = Info();
  info.has_tags = false;
  auto feeder = ExampleFeeder::Create(*f.session, info, "prep");
  ASSERT_FALSE(feeder.ok());
  EXPECT_THAT(std::string(feeder.status().message()),
              HasSubstr("graph input 'tags' (feed: EXAMPLE_TAGS) needs per-token tags"));
  info = Info();
  info.vocab_size = 50;
  feeder = ExampleFeeder::Create(*f.session, info, "prep");
  ASSERT_FALSE(feeder.ok());
  EXPECT_EQ(feeder.status().message(),
            "prep: the examples have a vocabulary of 50 tokens but node 'embed' (Embedding) has "
            "vocab 10; raise its vocab attribute");
  info = Info();
  info.label_kind = LabelKind::kFloat;
  feeder = ExampleFeeder::Create(*f.session, info, "prep");
  ASSERT_FALSE(feeder.ok());
  EXPECT_THAT(std::string(feeder.status().message()),
              HasSubstr("graph input 'label' (feed: EXAMPLE_LABEL) as INT32 takes class ids"));
}

// Pairs with a source axis S and a target axis T: each side is padded to
// its own steps, truncated to them and counted per side.
constexpr char kPairs[] = R"(
format_version: 1
name: "pairs"
input { name: "src"     dtype: INT32 dim: ["S", "N"] feed: EXAMPLE_TOKENS }
input { name: "src_len" dtype: INT32 dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "t_in"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_INPUTS }
input { name: "t_len"   dtype: INT32 dim: ["N"]      feed: EXAMPLE_TARGET_LENGTHS }
input { name: "t_out"   dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_OUTPUTS }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 10 } } attr { key: "dim" value { i: 3 } } }
node { name: "enc" op: "LSTM" input: ["emb", "", "", "src_len"]
       attr { key: "hidden" value { i: 3 } } }
node { name: "temb" op: "Embedding" input: "t_in"
       attr { key: "vocab" value { i: 4 } } attr { key: "dim" value { i: 3 } } }
node { name: "dec" op: "LSTM" input: ["temb", "enc:1", "enc:2", "t_len"]
       attr { key: "hidden" value { i: 3 } } }
node { name: "logits" op: "Dense" input: "dec" attr { key: "units" value { i: 4 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "t_out"] }
loss: "loss"
)";

TEST(ExampleFeedTest, SourceAndTargetArePaddedToTheirOwnSteps) {
  auto parsed = ParseModelText(kPairs, "pairs.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto g = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(g.ok()) << g.status();
  // S from the data (the longest source, 5 here), T from the run.
  auto bindings = ExampleTimeBindings(*g, /*steps=*/3, /*source_steps=*/0, /*longest=*/5);
  ASSERT_TRUE(bindings.ok()) << bindings.status();
  EXPECT_EQ(bindings->at("S"), 5);
  EXPECT_EQ(bindings->at("T"), 3);
  EXPECT_EQ(ExampleTimeBindings(*g, 3, 4, 5)->at("S"), 4);  // --source-steps wins
  EXPECT_EQ(SourceTimeSymbol(*g), "S");
  SessionOptions so;
  so.bindings = *bindings;
  so.bindings["N"] = 2;
  so.training = false;
  auto session = Session::Create(*g, so);
  ASSERT_TRUE(session.ok()) << session.status();
  ExampleFileInfo info;
  info.has_targets = true;
  info.vocab_size = 10;
  info.target_vocab_size = 4;
  auto feeder = ExampleFeeder::Create(**session, info, "data");
  ASSERT_TRUE(feeder.ok()) << feeder.status();
  EXPECT_EQ((*feeder)->source_steps(), 5);
  EXPECT_EQ((*feeder)->target_steps(), 3);
  const std::vector<int32_t> s0 = {1, 2, 3, 4, 5}, y0 = {1};           // fits: 2 target steps
  const std::vector<int32_t> s1 = {6, 7, 8, 9, 1, 2}, y1 = {3, 2, 1};  // both sides too long
  std::vector<ExampleRef> refs(2);
  refs[0].present = refs[1].present = true;
  refs[0].tokens = s0;
  refs[0].targets = y0;
  refs[1].tokens = s1;
  refs[1].targets = y1;
  const FeedStats st = (*feeder)->Fill(refs, false, **session);
  EXPECT_EQ(st.truncated, 1);
  EXPECT_EQ(st.target_truncated, 1);
  EXPECT_EQ(st.loss_count, 2 + 3);
  const Session& s = **session;
  EXPECT_THAT(Ints(*s.input("src")), ElementsAre(1, 6, 2, 7, 3, 8, 4, 9, 5, 1));
  EXPECT_THAT(Ints(*s.input("src_len")), ElementsAre(5, 5));
  EXPECT_THAT(Ints(*s.input("t_in")), ElementsAre(0, 0, 1, 3, 0, 2));
  EXPECT_THAT(Ints(*s.input("t_out")), ElementsAre(1, 3, 0, 2, -1, 1));
  EXPECT_THAT(Ints(*s.input("t_len")), ElementsAre(2, 3));
}

TEST(ExampleFeedTest, AnExampleModelBindsOnlyTAndTheSourceSymbol) {
  const std::string text =
      absl::StrCat(kPairs, R"(input { name: "extra" dtype: FLOAT32 dim: ["U", "N"] })");
  auto parsed = ParseModelText(text, "pairs.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto g = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(g.ok()) << g.status();
  auto bindings = ExampleTimeBindings(*g, 3, 0, 5);
  ASSERT_FALSE(bindings.ok());
  EXPECT_THAT(std::string(bindings.status().message()),
              HasSubstr("graph input 'extra' runs over time axis U, which an example model "
                        "cannot bind"));
}

}  // namespace
}  // namespace rnnflow
