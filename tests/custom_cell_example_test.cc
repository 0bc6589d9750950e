// examples/custom_cell: the textbook Elman cell written from primitive ops
// (model.pbtxt) is the same function as the fused oneDNN RNN node
// (fused.pbtxt), and it learns.
#include <algorithm>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/tiny_lm.h"

namespace rnnflow {
namespace {

const std::string kDir = std::string(RNNFLOW_SOURCE_DIR) + "/examples/custom_cell/";

struct Loaded {
  std::unique_ptr<LoadedModel> file;
  std::unique_ptr<Graph> graph;
};

Loaded Load(const std::string& name) {
  Loaded l;
  auto file = LoadModelFile(kDir + name);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return l;
  l.file = std::make_unique<LoadedModel>(*std::move(file));
  auto graph = Graph::Build(l.file->model, l.file->source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (graph.ok()) l.graph = std::make_unique<Graph>(*std::move(graph));
  return l;
}

// Small chunks of the tiny-LM corpus (its next byte depends on the previous
// four, so only a cell that carries context gets below 0.62 nats).
TrainerOptions SmallRun(int64_t steps) {
  TrainerOptions o;
  o.data_path = WriteTinyLmCorpus("custom_cell_corpus.txt");
  o.steps = steps;
  o.truncation_steps = 16;
  o.streams = 8;
  o.learning_rate = 0.005f;
  return o;
}

Tensor Param(Trainer& trainer, const Graph& graph, const std::string& name) {
  const auto& params = graph.params();
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].name == name) return trainer.session().params()[i];
  }
  ADD_FAILURE() << "no parameter " << name;
  return Tensor();
}

TEST(CustomCellExampleTest, PrimitiveOpCellEqualsTheFusedCell) {
  Loaded custom = Load("model.pbtxt"), fused = Load("fused.pbtxt");
  ASSERT_TRUE(custom.graph && fused.graph);
  auto a = Trainer::Create(*custom.graph, SmallRun(3));
  auto b = Trainer::Create(*fused.graph, SmallRun(3));
  ASSERT_TRUE(a.ok() && b.ok());
  // Same embedding and output layer (initialised from their names); give the
  // custom cell the fused cell's weights.
  const std::pair<const char*, const char*> same[] = {{"W_xh", "rnn/l0/w_x"},
                                                      {"W_hh", "rnn/l0/w_h"},
                                                      {"b_h", "rnn/l0/b"},
                                                      {"embed/table", "embed/table"},
                                                      {"logits/kernel", "logits/kernel"},
                                                      {"logits/bias", "logits/bias"}};
  for (const auto& [to, from] : same) {
    Tensor dst = Param(**a, *custom.graph, to), src = Param(**b, *fused.graph, from);
    ASSERT_EQ(dst.num_elements(), src.num_elements()) << to;
    std::copy(src.f32(), src.f32() + src.num_elements(), dst.f32());
  }
  // Three Adam steps: equal losses mean equal forward passes, and equal
  // later losses mean equal gradients (and carried states).
  for (int step = 0; step < 3; ++step) {
    auto ra = (*a)->Step(), rb = (*b)->Step();
    ASSERT_TRUE(ra.ok() && rb.ok());
    EXPECT_NEAR(ra->loss, rb->loss, 1e-4f * std::max(1.f, rb->loss)) << "step " << step;
    EXPECT_NEAR(ra->grad_norm, rb->grad_norm, 1e-3f * rb->grad_norm) << "step " << step;
  }
}

TEST(CustomCellExampleTest, TheCustomCellLearnsContext) {
  Loaded custom = Load("model.pbtxt");
  ASSERT_TRUE(custom.graph);
  auto trainer = Trainer::Create(*custom.graph, SmallRun(80));
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto results = (*trainer)->Run();
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_GT(results->front().loss, 4.0f);  // ln 256 = 5.55 at the start
  auto valid = (*trainer)->Validate(5);
  ASSERT_TRUE(valid.ok()) << valid.status();
  // 0.62 nats is the best a cell without memory can do on this corpus.
  EXPECT_LT(*valid, 0.3f);
}

}  // namespace
}  // namespace rnnflow
