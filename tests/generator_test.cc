// Generation from a trained model continues what it learned.
#include "rnnflow/inference/generator.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
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
  EXPECT_EQ((*generator)->Generate("a", sample).status().message(),
            "SampleOptions::temperature must be > 0; got 0");

  // Ids: the same model with the identity map, greedy, stopping after 'd'.
  std::vector<int32_t> identity(256);
  for (int32_t i = 0; i < 256; ++i) identity[i] = i;
  std::vector<int32_t> prime;
  for (char c : std::string("abacabadaba")) prime.push_back(c);
  SampleOptions greedy;
  greedy.top_k = 1;
  greedy.length = 20;
  auto ids = (*generator)->GenerateIds(prime, identity, 'd', greedy);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(std::string(ids->begin(), ids->end()), "eabacabad");
  greedy.length = 3;  // the length bounds it before the stop id
  ids = (*generator)->GenerateIds(prime, identity, 'd', greedy);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(std::string(ids->begin(), ids->end()), "eab");
  // An output without an input id, other than the stop id, is an error.
  std::vector<int32_t> no_b = identity;
  no_b['b'] = -1;
  EXPECT_FALSE((*generator)->GenerateIds(prime, no_b, 'd', greedy).ok());
  EXPECT_FALSE((*generator)->GenerateIds({}, identity, 'd', greedy).ok());
  EXPECT_FALSE((*generator)->GenerateIds(prime, identity, 300, greedy).ok());
  EXPECT_FALSE((*generator)->GenerateIds(prime, std::vector<int32_t>(257, 0), 'd', greedy).ok());
}

}  // namespace
}  // namespace rnnflow
