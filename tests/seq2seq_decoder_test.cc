// The encoder/step cut of a pairs model: the T = 1 step decoder gives the
// log-probabilities of the teacher-forced training graph on the same prefix,
// beam search over it is exact when the beam is wide, and unsupported
// models are errors.
#include "rnnflow/inference/seq2seq_decoder.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/example_feed.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

// Target vocabulary of 3: 0 (start/end), 1, 2.
constexpr char kModel[] = R"(
format_version: 1
name: "tiny_s2s"
input { name: "src"     dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "src_len" dtype: INT32 dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "t_in"    dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_INPUTS }
input { name: "t_len"   dtype: INT32 dim: ["N"]      feed: EXAMPLE_TARGET_LENGTHS }
input { name: "t_out"   dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_OUTPUTS }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 5 } } }
node { name: "enc" op: "LSTM" input: ["emb", "", "", "src_len"]
       attr { key: "hidden" value { i: 6 } } }
node { name: "temb" op: "Embedding" input: "t_in"
       attr { key: "vocab" value { i: 3 } } attr { key: "dim" value { i: 4 } } }
node { name: "dec" op: "LSTM" input: ["temb", "enc:1", "enc:2", "t_len"]
       attr { key: "hidden" value { i: 6 } } }
node { name: "logits" op: "Dense" input: "dec" attr { key: "units" value { i: 3 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "t_out"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } truncation_steps: 4 streams_per_worker: 3 }
)";

struct Model {
  LoadedModel file;
  std::unique_ptr<Graph> graph;
};

std::unique_ptr<Model> Load(const std::string& text) {
  auto m = std::make_unique<Model>();
  auto parsed = ParseModelText(text, "m.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return nullptr;
  m->file = *std::move(parsed);
  auto g = Graph::Build(m->file.model, m->file.source);
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return nullptr;
  m->graph = std::make_unique<Graph>(*std::move(g));
  return m;
}

// kModel with its source over its own time symbol S.
std::string SourceOverS() {
  return absl::StrReplaceAll(kModel, {{R"(name: "src"     dtype: INT32 dim: ["T", "N"])",
                                       R"(name: "src"     dtype: INT32 dim: ["S", "N"])"}});
}

// A session of the training graph with random parameters (seed), T = 4 (and
// S when > 0).
std::unique_ptr<Session> TrainingSession(const Graph& g, int64_t n, uint64_t seed, int64_t T = 4,
                                         int64_t S = 0, bool training = false) {
  SessionOptions o;
  o.bindings = {{"T", T}, {"N", n}};
  if (S > 0) o.bindings["S"] = S;
  o.training = training;
  o.seed = seed;
  auto s = Session::Create(g, o);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

ExampleFileInfo PairsInfo() {
  ExampleFileInfo info;
  info.has_targets = true;
  info.vocab_size = 8;
  info.target_vocab_size = 3;
  return info;
}

// log-softmax of logits [T, N, V] at (t, n).
std::vector<double> LogSoftmax(const Tensor& logits, int64_t t, int64_t n) {
  const int64_t N = logits.dim(1), V = logits.dim(2);
  const float* row = logits.f32() + (t * N + n) * V;
  double m = row[0];
  for (int64_t v = 1; v < V; ++v) m = std::max<double>(m, row[v]);
  double s = 0;
  for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - m);
  std::vector<double> out(V);
  for (int64_t v = 0; v < V; ++v) out[v] = row[v] - m - std::log(s);
  return out;
}

// One time symbol (sources padded to T = 4) and a source over S = 6.
class StepDecoderTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(StepDecoderTest, MatchesTeacherForcing) {
  const int64_t S = GetParam();
  auto m = Load(S > 0 ? SourceOverS() : std::string(kModel));
  ASSERT_TRUE(m);
  const std::vector<std::vector<int32_t>> src = {{3, 4, 5}, {2}, {7, 6, 5, 4}};
  const std::vector<std::vector<int32_t>> tgt = {{1, 2, 2}, {2}, {}};
  auto session = TrainingSession(*m->graph, 3, 5, 4, S);
  ASSERT_TRUE(session);
  auto feeder = ExampleFeeder::Create(*session, PairsInfo(), "test");
  ASSERT_TRUE(feeder.ok()) << feeder.status();
  std::vector<ExampleRef> refs(3);
  for (int n = 0; n < 3; ++n) {
    refs[n].present = true;
    refs[n].tokens = src[n];
    refs[n].targets = tgt[n];
  }
  const FeedStats stats = (*feeder)->Fill(refs, false, *session);
  EXPECT_EQ(stats.loss_count, 4 + 2 + 1);  // m + 1 steps each
  session->ResetStates();
  ASSERT_TRUE(session->Forward().ok());
  const Tensor logits = *session->value("logits");
  const Tensor t_in = *session->input("t_in");
  const Tensor t_out = *session->input("t_out");
  EXPECT_EQ(t_in.i32()[0 * 3 + 0], 0);  // start symbol
  EXPECT_EQ(t_in.i32()[1 * 3 + 0], 1);
  EXPECT_EQ(t_out.i32()[3 * 3 + 0], 0);   // end symbol after y_3
  EXPECT_EQ(t_out.i32()[1 * 3 + 2], -1);  // past an empty target's end

  auto decoder = Seq2SeqDecoder::Create(*m->graph, session->params(), S > 0 ? S : 4, 3, 1);
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  EXPECT_EQ((*decoder)->vocab(), 3);
  ASSERT_TRUE((*decoder)->Encode(src).ok());
  std::vector<float> lp(3 * 3);
  for (int64_t t = 0; t < 4; ++t) {
    std::vector<int32_t> tokens(3);
    for (int n = 0; n < 3; ++n) tokens[n] = t_in.i32()[t * 3 + n];
    ASSERT_TRUE((*decoder)->Step(tokens, absl::MakeSpan(lp)).ok());
    for (int n = 0; n < 3; ++n) {
      if (t > static_cast<int64_t>(tgt[n].size())) continue;  // past the decoder length
      const std::vector<double> want = LogSoftmax(logits, t, n);
      for (int v = 0; v < 3; ++v) {
        EXPECT_NEAR(lp[n * 3 + v], want[v], 1e-5) << "t " << t << " n " << n << " v " << v;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(OneSymbolAndSourceOverS, StepDecoderTest, ::testing::Values(0, 6));

// The padding is inert: the model with its source over S = 5 and its target
// over T = 4 gives the loss and gradients of the same model with both padded
// to one T = 5.
TEST(Seq2SeqDecoderTest, SeparateAxesEqualOneCommonPaddedAxis) {
  auto two = Load(SourceOverS());
  auto one = Load(kModel);
  ASSERT_TRUE(two && one);
  const std::vector<std::vector<int32_t>> src = {{3, 4, 5, 6, 7}, {2}, {7, 6, 5, 4}};
  const std::vector<std::vector<int32_t>> tgt = {{1, 2, 2}, {2}, {}};
  auto s_two = TrainingSession(*two->graph, 3, 9, /*T=*/4, /*S=*/5, /*training=*/true);
  auto s_one = TrainingSession(*one->graph, 3, 9, /*T=*/5, /*S=*/0, /*training=*/true);
  ASSERT_TRUE(s_two && s_one);
  std::vector<ExampleRef> refs(3);
  for (int n = 0; n < 3; ++n) {
    refs[n].present = true;
    refs[n].tokens = src[n];
    refs[n].targets = tgt[n];
  }
  for (Session* s : {s_two.get(), s_one.get()}) {
    auto feeder = ExampleFeeder::Create(*s, PairsInfo(), "test");
    ASSERT_TRUE(feeder.ok()) << feeder.status();
    const FeedStats st = (*feeder)->Fill(refs, false, *s);
    EXPECT_EQ(st.truncated + st.target_truncated, 0);
    EXPECT_EQ(st.loss_count, 4 + 2 + 1);
    s->ResetStates();
    ASSERT_TRUE(s->Forward().ok());
    ASSERT_TRUE(s->Backward().ok());
  }
  EXPECT_EQ(s_two->input("src")->dim(0), 5);
  EXPECT_EQ(s_two->input("t_in")->dim(0), 4);
  EXPECT_EQ(s_one->input("t_in")->dim(0), 5);
  EXPECT_GT(s_one->loss(), 0.f);
  EXPECT_NEAR(s_two->loss(), s_one->loss(), 1e-6);
  ASSERT_EQ(s_two->params().size(), s_one->params().size());
  for (size_t p = 0; p < s_two->params().size(); ++p) {
    const Tensor a = s_two->param_grads()[p], b = s_one->param_grads()[p];
    ASSERT_EQ(a.num_elements(), b.num_elements());
    double norm = 0;
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      EXPECT_EQ(s_two->params()[p].f32()[i], s_one->params()[p].f32()[i]);
      EXPECT_NEAR(a.f32()[i], b.f32()[i], 1e-6) << two->graph->params()[p].name << " " << i;
      norm += std::abs(b.f32()[i]);
    }
    EXPECT_GT(norm, 0) << two->graph->params()[p].name;  // every gradient is exercised
  }
}

TEST(Seq2SeqDecoderTest, WideBeamFindsTheBestSequenceByEnumeration) {
  auto m = Load(kModel);
  ASSERT_TRUE(m);
  const std::vector<int32_t> source = {6, 2, 3};
  DecodeOptions o;
  o.max_length = 3;
  for (uint64_t seed : {1, 2, 3, 4}) {
    auto one = TrainingSession(*m->graph, 1, seed);
    ASSERT_TRUE(one);
    auto feeder = ExampleFeeder::Create(*one, PairsInfo(), "test");
    ASSERT_TRUE(feeder.ok());
    // Score every output by the teacher-forced graph: all y in {1,2}^L then
    // the end symbol for L < 3, and unterminated y of length 3.
    double best = -INFINITY;
    std::vector<int32_t> best_y;
    for (int L = 0; L <= 3; ++L) {
      for (int code = 0; code < (1 << L); ++code) {
        std::vector<int32_t> y;
        for (int i = 0; i < L; ++i) y.push_back(1 + ((code >> i) & 1));
        ExampleRef ref;
        ref.present = true;
        ref.tokens = source;
        ref.targets = y;
        (*feeder)->Fill(absl::MakeConstSpan(&ref, 1), false, *one);
        one->ResetStates();
        ASSERT_TRUE(one->Forward().ok());
        const Tensor logits = *one->value("logits");
        double lp = 0;
        for (int t = 0; t < L; ++t) lp += LogSoftmax(logits, t, 0)[y[t]];
        if (L < 3) lp += LogSoftmax(logits, L, 0)[0];
        if (lp > best) {
          best = lp;
          best_y = y;
        }
      }
    }
    o.beam = 8;  // more than the 1 + 2 + 4 live prefixes
    auto decoder = Seq2SeqDecoder::Create(*m->graph, one->params(), 4, 1, o.beam);
    ASSERT_TRUE(decoder.ok()) << decoder.status();
    ASSERT_TRUE((*decoder)->Encode({source}).ok());
    auto found = BeamSearch(**decoder, 1, o);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ((*found)[0][0].tokens, best_y) << "seed " << seed;
    EXPECT_NEAR((*found)[0][0].log_prob, best, 1e-4);
  }
}

TEST(Seq2SeqDecoderTest, UnsupportedModelsAreErrors) {
  // The decoder reads the source lengths.
  std::string text = kModel;
  text.replace(text.find("\"enc:2\", \"t_len\""), 16, "\"enc:2\", \"src_len\"");
  auto m = Load(text);
  ASSERT_TRUE(m);
  auto split = SplitSeq2Seq(*m->graph);
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(split.status().message(),
              HasSubstr("decoder node 'dec' reads graph input 'src_len'"));

  // No decoder input: a many-to-one model.
  auto cls = Load(R"(
format_version: 1
name: "cls"
input { name: "src" dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "y" dtype: INT32 dim: ["1", "N"] feed: EXAMPLE_LABEL }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "enc" op: "GRU" input: "emb" attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "enc:1" attr { key: "units" value { i: 2 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "y"] }
loss: "loss"
)");
  ASSERT_TRUE(cls);
  auto bad = SplitSeq2Seq(*cls->graph);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("EXAMPLE_TARGET_INPUTS"));
}

TEST(Seq2SeqDecoderTest, SplitNamesTheHandoffs) {
  auto m = Load(kModel);
  ASSERT_TRUE(m);
  auto split = SplitSeq2Seq(*m->graph);
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->handoffs.size(), 2u);
  EXPECT_EQ(split->handoffs[0].encoder_output, "enc:1");
  EXPECT_EQ(split->handoffs[0].step_input, "enc_h_n");
  EXPECT_EQ(split->handoffs[0].step_next, "dec:1");
  EXPECT_EQ(split->handoffs[1].step_next, "dec:2");
  EXPECT_EQ(split->encoder.node_size(), 2);  // emb, enc
  EXPECT_EQ(split->step.node_size(), 3);     // temb, dec, logits
  EXPECT_EQ(split->step_logits, "logits");
}

}  // namespace
}  // namespace rnnflow
