// Example-mode training end to end on a generated labelled set: learning
// (well above the majority class), exact resume, and the data-parallel
// weighting (2 ranks x N == 1 rank x 2N, partial batches and per-step masks
// included).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/example_batch_source.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/toy_dictionary.h"

namespace rnnflow {
namespace {

// Many-to-one: does the review contain the word "key"? The answer needs
// memory across steps (the word may be anywhere).
constexpr char kClassifier[] = R"(
format_version: 1
name: "detect"
input { name: "tokens"  dtype: INT32   dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "lengths" dtype: INT32   dim: ["N"] feed: EXAMPLE_LENGTHS }
input { name: "label"   dtype: FLOAT32 dim: ["1", "N", "1"] feed: EXAMPLE_LABEL }
input { name: "weight"  dtype: FLOAT32 dim: ["1", "N", "1"] feed: EXAMPLE_WEIGHTS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 16 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: ["embed", "", "", "lengths"]
       attr { key: "hidden" value { i: 16 } } }
node { name: "logit" op: "Dense" input: "lstm:1" attr { key: "units" value { i: 1 } } }
node { name: "loss" op: "SigmoidCrossEntropy" input: ["logit", "label", "weight"] }
output: "logit"
loss: "loss"
training {
  adam {}
  learning_rate { base: 0.02 }
  clip_global_norm: 5
  truncation_steps: 10
  streams_per_worker: 16
  seed: 3
}
)";

// Per-step tagging: the tag of each word is whether "key" appeared so far.
constexpr char kTagger[] = R"(
format_version: 1
name: "tagger"
input { name: "tokens" dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TOKENS }
input { name: "tags"   dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TAGS }
input { name: "lengths" dtype: INT32 dim: ["N"] feed: EXAMPLE_LENGTHS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 16 } } attr { key: "dim" value { i: 8 } } }
node { name: "gru" op: "GRU" input: ["embed", "", "lengths"] attr { key: "hidden" value { i: 8 } } }
node { name: "logits" op: "Dense" input: "gru" attr { key: "units" value { i: 2 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "tags"] }
loss: "loss"
training { sgd {} learning_rate { base: 0.1 } truncation_steps: 8 streams_per_worker: 6 seed: 2 }
)";

std::string TempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// `n` examples of 3-10 words w0..w9, half of them with "key" somewhere;
// tags: "y" from the key on, else "n".
std::string PrepareDetect(const std::string& name, int n) {
  std::mt19937 rng(7);
  std::string json = "[";
  for (int i = 0; i < n; ++i) {
    const int len = 3 + static_cast<int>(rng() % 8);
    const bool positive = rng() % 2 == 0;
    const int at = static_cast<int>(rng() % len);
    std::string words, tags;
    bool seen = false;
    for (int t = 0; t < len; ++t) {
      const bool key = positive && t == at;
      seen |= key;
      words += std::string(t ? "\", \"" : "\"") + (key ? "key" : "w" + std::to_string(rng() % 10));
      tags += std::string(t ? "\", \"" : "\"") + (seen ? "y" : "n");
    }
    json += std::string(i ? ",\n" : "\n") + "{\"words\": [" + words + "\"], \"tags\": [" + tags +
            "\"], \"class\": " + (positive ? "1" : "0") + "}";
  }
  json += "]\n";
  const std::string path = ::testing::TempDir() + "/" + name + ".json";
  std::ofstream(path) << json;
  ExamplePrepareOptions o;
  o.fields.text = "words";
  o.fields.tags = "tags";
  o.valid_fraction = 0.2;
  o.test_fraction = 0;
  o.deduplicate = false;
  const std::string dir = TempDir(name);
  auto r = PrepareExamples({path}, dir, o);
  EXPECT_TRUE(r.ok()) << r.status();
  return dir;
}

std::unique_ptr<Graph> BuildGraph(const char* text, LoadedModel* keep) {
  auto parsed = ParseModelText(text, "model.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  *keep = *std::move(parsed);
  auto g = Graph::Build(keep->model, keep->source);
  EXPECT_TRUE(g.ok()) << g.status();
  return std::make_unique<Graph>(*std::move(g));
}

TEST(ExampleTrainingTest, ClassifierLearnsWellAboveTheMajorityClass) {
  const std::string data = PrepareDetect("detect", 600);
  LoadedModel keep;
  auto graph = BuildGraph(kClassifier, &keep);
  TrainerOptions o;
  o.data_path = data;
  o.steps = 300;
  o.bucket_window = 4;
  auto trainer = Trainer::Create(*graph, o);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto before = (*trainer)->Validate(0);
  ASSERT_TRUE(before.ok()) << before.status();
  auto run = (*trainer)->Run();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_GE(run->back().accuracy, 0.0);
  auto valid = ExampleFile::Open(data + "/valid.ex");
  ASSERT_TRUE(valid.ok());
  auto feeder = ExampleFeeder::Create((*trainer)->session(), (*valid)->info(), data);
  ASSERT_TRUE(feeder.ok());
  auto ev = EvaluateExamples((*trainer)->session(), **feeder, **valid);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->examples, (*valid)->size());
  // Balanced classes: the majority class scores about 0.5; chance-level
  // loss is ln 2 = 0.69.
  EXPECT_NEAR(*before, 0.69, 0.05);
  EXPECT_GT(ev->score.accuracy(), 0.9) << "loss " << ev->loss;
  EXPECT_LT(ev->loss, 0.3);
}

// Parameters of a trainer, bit for bit.
std::vector<std::vector<float>> Params(Trainer& t) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : t.session().params())
    out.emplace_back(p.f32(), p.f32() + p.num_elements());
  return out;
}

TEST(ExampleTrainingTest, ResumeContinuesExactly) {
  const std::string data = PrepareDetect("detect_resume", 100);  // 5 batches per epoch
  LoadedModel keep;
  auto graph = BuildGraph(kClassifier, &keep);
  TrainerOptions o;
  o.data_path = data;
  o.validate = false;
  o.bucket_window = 2;
  o.steps = 13;  // crosses epoch boundaries and a partial batch
  auto straight = Trainer::Create(*graph, o);
  ASSERT_TRUE(straight.ok()) << straight.status();
  auto all = (*straight)->Run();
  ASSERT_TRUE(all.ok()) << all.status();

  o.checkpoint_dir = TempDir("detect_ckpt");
  o.steps = 6;
  auto first = Trainer::Create(*graph, o);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Run().ok());
  o.steps = 13;
  o.resume = true;
  auto second = Trainer::Create(*graph, o);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->step(), 6);
  auto rest = (*second)->Run();
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->size(), 7u);
  for (size_t i = 0; i < rest->size(); ++i) {
    EXPECT_EQ((*rest)[i].loss, (*all)[6 + i].loss) << "step " << 7 + i;
  }
  EXPECT_EQ(Params(**second), Params(**straight));
}

// The weighting behind `mpirun -np 2`: two ranks of N slots, each seeding
// its loss with local_count x 2 / global_count, give gradients whose mean is
// one rank's gradient on the 2N-slot batch, also when the ranks hold
// different numbers of tokens and one holds only empty slots.
TEST(ExampleTrainingTest, TwoRanksOfNEqualOneRankOf2N) {
  const std::string data = PrepareDetect("detect_ranks", 27);  // 3 x 2N = 36 > 27 + partial
  LoadedModel keep;
  auto graph = BuildGraph(kTagger, &keep);
  auto session = [&](int64_t n) {
    SessionOptions so;
    so.bindings = {{"T", 8}, {"N", n}};
    so.seed = 4;
    auto s = Session::Create(*graph, so);
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  };
  auto big = session(12);
  std::unique_ptr<Session> small[2] = {session(6), session(6)};
  BatchSourceOptions eo;
  eo.data = data;
  eo.seed = 9;
  auto train = [&](const Session& s) {
    auto file = ExampleFile::Open(data + "/train.ex");
    EXPECT_TRUE(file.ok()) << file.status();
    return ExampleBatchSource::Create(s, *std::move(file), eo, /*training_order=*/true);
  };
  auto one = train(*big);
  ASSERT_TRUE(one.ok()) << one.status();
  std::unique_ptr<ExampleBatchSource> two[2];
  for (int r = 0; r < 2; ++r) {
    eo.rank = r;
    eo.ranks = 2;
    auto t = train(*small[r]);
    ASSERT_TRUE(t.ok()) << t.status();
    two[r] = *std::move(t);
  }
  ASSERT_EQ((*one)->batches_per_epoch(), 2);  // 21-22 train examples: the second is partial
  for (int step = 0; step < 4; ++step) {
    (*one)->FeedNext(*big);
    ASSERT_TRUE(big->Forward().ok());
    ASSERT_TRUE(big->Backward().ok());
    for (int r = 0; r < 2; ++r) {
      two[r]->FeedNext(*small[r]);
      ASSERT_TRUE(small[r]->Forward().ok());
      ASSERT_TRUE(small[r]->Backward().ok());
    }
    for (size_t p = 0; p < big->param_grads().size(); ++p) {
      const Tensor& g = big->param_grads()[p];
      for (int64_t i = 0; i < g.num_elements(); ++i) {
        const float mean =
            0.5f * (small[0]->param_grads()[p].f32()[i] + small[1]->param_grads()[p].f32()[i]);
        ASSERT_NEAR(mean, g.f32()[i], 1e-5f + 1e-4f * std::fabs(g.f32()[i]))
            << "step " << step << " parameter " << graph->params()[p].name << " element " << i;
      }
    }
  }
}

TEST(ExampleTrainingTest, MissingOrMismatchedDataIsAClearError) {
  LoadedModel keep;
  auto graph = BuildGraph(kClassifier, &keep);
  TrainerOptions o;
  o.data_path = ::testing::TempDir() + "/no_such_examples";
  auto t = Trainer::Create(*graph, o);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            o.data_path + "/train.ex: cannot open: No such file or directory");
}

// Pairs whose source runs over its own axis S: the trainer binds S to the
// longest source of the train and valid splits, or to --source-steps, and
// reports truncation per side; a checkpoint resumes under another S.
TEST(ExampleTrainingTest, APairsModelsSourceStepsComeFromTheDataOrTheFlag) {
  const std::string dir = TempDir("pairs_s");
  std::filesystem::create_directories(dir);
  WriteToyDictionary(dir + "/dict.txt", 40, 8);
  const ExamplePrepareOptions p = ToyDictionaryPrepareOptions();
  auto report = PrepareExamples({dir + "/dict.txt"}, dir + "/prep", p);
  ASSERT_TRUE(report.ok()) << report.status();
  LoadedModel keep;
  auto graph = BuildGraph(R"(
format_version: 1
name: "pairs"
input { name: "src"   dtype: INT32 dim: ["S", "N"] feed: EXAMPLE_TOKENS }
input { name: "len"   dtype: INT32 dim: ["N"]      feed: EXAMPLE_LENGTHS }
input { name: "t_in"  dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_INPUTS }
input { name: "t_out" dtype: INT32 dim: ["T", "N"] feed: EXAMPLE_TARGET_OUTPUTS }
node { name: "emb" op: "Embedding" input: "src"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "enc" op: "GRU" input: ["emb", "", "len"] attr { key: "hidden" value { i: 4 } } }
node { name: "temb" op: "Embedding" input: "t_in"
       attr { key: "vocab" value { i: 8 } } attr { key: "dim" value { i: 4 } } }
node { name: "dec" op: "GRU" input: ["temb", "enc:1"] attr { key: "hidden" value { i: 4 } } }
node { name: "logits" op: "Dense" input: "dec" attr { key: "units" value { i: 8 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "t_out"] }
loss: "loss"
training { adam {} truncation_steps: 6 streams_per_worker: 4 }
)",
                          &keep);
  // The second run resumes the first's checkpoint: sizes bound per run are
  // no part of the model's identity.
  for (int64_t source_steps : {0, 4}) {
    std::ostringstream log;
    TrainerOptions o;
    o.data_path = dir + "/prep";
    o.steps = source_steps > 0 ? 2 : 1;
    o.source_steps = source_steps;
    o.threads = 1;
    o.log = &log;
    o.checkpoint_dir = dir + "/ckpt";
    o.resume = source_steps > 0;
    auto t = Trainer::Create(*graph, o);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ((*t)->step(), source_steps > 0 ? 1 : 0);
    ASSERT_TRUE((*t)->Run().ok());
    EXPECT_EQ((*t)->session().input("src")->dim(0), source_steps > 0 ? 4 : 9);
    EXPECT_EQ((*t)->session().input("t_in")->dim(0), 6);
    EXPECT_NE(log.str().find("targets + end longer than T=6 keep their first 6 steps"),
              std::string::npos)
        << log.str();
    EXPECT_EQ(
        log.str().find("longer than 4 source steps keep their first 4 tokens") != std::string::npos,
        source_steps > 0)
        << log.str();
  }
}

}  // namespace
}  // namespace rnnflow
