// Filling a session's EXAMPLE_* inputs: padding, lengths, truncation, empty
// slots, labels, weights and tags; input checks against the prepared data.
#include "runtime/example_feed.h"

#include <vector>

#include "gmock/gmock.h"
#include "graph/graph.h"
#include "graph/model_loader.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace rnnflow
