// Training end to end: truncated BPTT over a generated corpus.
#include "runtime/trainer.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "graph/graph.h"
#include "graph/model_loader.h"
#include "gtest/gtest.h"

namespace rnnflow {
namespace {

constexpr char kModel[] = R"(
format_version: 1
name: "tiny_lm"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 16 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 32 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training {
  adam {}
  learning_rate { base: 0.01 }
  clip_global_norm: 5
  truncation_steps: 16
  streams_per_worker: 8
  seed: 3
}
)";

// A corpus whose next byte is a deterministic function of the previous
// four: a 12-symbol cycle in which "aba" is followed by c, d or e depending
// on the symbol before it, so a model must remember context (no bigram or
// trigram model reaches zero loss).
std::string WriteCorpus() {
  const std::string cycle = "abacabadabae";
  std::string text;
  while (text.size() < 60000) text += cycle;
  std::string path = testing::TempDir() + "/rnnflow_trainer_corpus.txt";
  std::ofstream(path) << text;
  return path;
}

TEST(TrainerTest, SmallLstmLearnsAGeneratedSequence) {
  auto parsed = ParseModelText(kModel, "tiny_lm.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  TrainerOptions options;
  options.data_path = WriteCorpus();
  options.steps = 1500;
  auto trainer = Trainer::Create(*graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto results = (*trainer)->Run();
  ASSERT_TRUE(results.ok()) << results.status();
  // Chance over 256 bytes is ln 256 = 5.55 nats. A model that sees only the
  // current symbol plateaus at 0.62 nats (after 'a' the next symbol is b, c,
  // d or e with probabilities 1/2, 1/6, 1/6, 1/6: 1.24 nats, on half of the
  // positions). The sequence is deterministic given 4 symbols, so staying
  // below 0.2 shows the LSTM carries context across steps (and chunks).
  EXPECT_GT(results->front().loss, 4.0f);
  float tail = 0;
  for (int i = 0; i < 10; ++i) tail += (*results)[results->size() - 1 - i].loss / 10;
  EXPECT_LT(tail, 0.2f) << "mean loss of the last 10 steps";
  auto valid = (*trainer)->Validate(5);
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_LT(*valid, 0.2f);
}

TEST(TrainerTest, MissingCorpusIsAClearError) {
  auto parsed = ParseModelText(kModel, "tiny_lm.pbtxt");
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok());
  TrainerOptions options;
  options.data_path = "/nonexistent/corpus.txt";
  auto trainer = Trainer::Create(*graph, options);
  ASSERT_FALSE(trainer.ok());
  EXPECT_EQ(trainer.status().message(),
            "/nonexistent/corpus.txt: cannot open: No such file or directory");
}

}  // namespace
}  // namespace rnnflow
