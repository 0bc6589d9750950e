// Generation from a trained model continues what it learned.
#include "runtime/generator.h"

#include <fstream>

#include "graph/model_loader.h"
#include "gtest/gtest.h"
#include "runtime/trainer.h"

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
training { adam {} learning_rate { base: 0.01 } clip_global_norm: 5
           truncation_steps: 16 streams_per_worker: 8 seed: 3 }
)";

TEST(GeneratorTest, ContinuesALearnedCycle) {
  const std::string cycle = "abacabadabae";
  std::string text;
  while (text.size() < 60000) text += cycle;
  const std::string path = testing::TempDir() + "/rnnflow_generator_corpus.txt";
  std::ofstream(path) << text;

  auto parsed = ParseModelText(kModel, "tiny_lm.pbtxt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  TrainerOptions options;
  options.data_path = path;
  options.steps = 1500;
  auto trainer = Trainer::Create(*graph, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());

  auto generator = Generator::Create(*graph, (*trainer)->session().params());
  ASSERT_TRUE(generator.ok()) << generator.status();
  SampleOptions sample;
  sample.length = 24;
  sample.temperature = 0.2f;  // nearly greedy: the cycle is deterministic
  auto out = (*generator)->Generate("abacabad", sample);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "abaeabacabadabaeabacabad");

  sample.temperature = 0;
  EXPECT_FALSE((*generator)->Generate("a", sample).ok());
}

}  // namespace
}  // namespace rnnflow
