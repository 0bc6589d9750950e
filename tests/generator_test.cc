// Generation from a trained model continues what it learned.
#include "runtime/generator.h"

#include "graph/model_loader.h"
#include "gtest/gtest.h"
#include "runtime/trainer.h"
#include "tests/testing/tiny_lm.h"

namespace rnnflow {
namespace {

TEST(GeneratorTest, ContinuesALearnedCycle) {
  const std::string path = WriteTinyLmCorpus("rnnflow_generator_corpus.txt");

  auto parsed = ParseModelText(kTinyLmModel, "tiny_lm.pbtxt");
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
