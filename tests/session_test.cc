// End-to-end execution of rolled graphs: the unrolled schedule, recurrent
// state aliasing, carried states and reverse-mode gradients of whole models.
#include "rnnflow/runtime/session.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow {
namespace {

struct Compiled {
  LoadedModel loaded;
  Graph graph;
};

std::unique_ptr<Compiled> Compile(const std::string& path) {
  auto loaded = LoadModelFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  auto c = std::make_unique<Compiled>();
  c->loaded = *std::move(loaded);
  auto graph = Graph::Build(c->loaded.model, c->loaded.source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  c->graph = *std::move(graph);
  return c;
}

const std::string kTextbook = RNNFLOW_SOURCE_DIR "/tests/testdata/textbook_relu_rnn.pbtxt";

TEST(SessionTest, TextbookReluRnnGivesTheWorkedHiddenStates) {
  auto c = Compile(kTextbook);
  auto session = Session::Create(c->graph, {{{"T", 3}, {"N", 1}}});
  ASSERT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  Tensor x = *s.input("x");
  x.f32()[0] = 10;
  x.f32()[1] = 20;
  x.f32()[2] = 30;
  ASSERT_TRUE(s.Forward().ok());
  Tensor h = *s.value("h_t");
  ASSERT_EQ(h.shape(), (Shape{3, 1, 1}));
  EXPECT_NEAR(h.f32()[0], 5.1f, 1e-5);
  EXPECT_NEAR(h.f32()[1], 11.12f, 1e-5);
  EXPECT_NEAR(h.f32()[2], 17.324f, 1e-4);
  Tensor y = *s.value("y");
  EXPECT_NEAR(y.f32()[2], 1.5f * 17.324f - 0.5f, 1e-4);
}

// The same cell over a source axis S: the recurrence runs S steps whatever T
// is bound to, and an unbound S is an error naming the recurrence.
TEST(SessionTest, ARecurrenceOverSRunsSSteps) {
  auto loaded = LoadModelFile(kTextbook);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (InputDef& in : *loaded->model.mutable_input()) in.set_dim(0, "S");
  auto graph = Graph::Build(loaded->model, loaded->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto session = Session::Create(*graph, {{{"S", 3}, {"T", 7}, {"N", 1}}});
  ASSERT_TRUE(session.ok()) << session.status();
  Session& s = **session;
  Tensor x = *s.input("x");
  ASSERT_EQ(x.shape(), (Shape{3, 1, 1}));
  x.f32()[0] = 10;
  x.f32()[1] = 20;
  x.f32()[2] = 30;
  ASSERT_TRUE(s.Forward().ok());
  Tensor h = *s.value("h_t");
  ASSERT_EQ(h.shape(), (Shape{3, 1, 1}));
  EXPECT_NEAR(h.f32()[2], 17.324f, 1e-4);
  s.CarryStates();  // the last of S steps
  EXPECT_NEAR(s.carried_states()[0].f32()[0], 17.324f, 1e-4);
  auto unbound = Session::Create(*graph, {{{"T", 3}, {"N", 1}}});
  ASSERT_FALSE(unbound.ok());
  EXPECT_NE(unbound.status().message().find("runs over time axis S"), std::string::npos)
      << unbound.status();
}

TEST(SessionTest, CarriedStateContinuesTheRecurrenceAcrossChunks) {
  auto c = Compile(kTextbook);
  auto whole = *Session::Create(c->graph, {{{"T", 4}, {"N", 1}}});
  auto chunk = *Session::Create(c->graph, {{{"T", 2}, {"N", 1}}});
  const float xs[4] = {1, -2, 3, 0.5};
  for (int t = 0; t < 4; ++t) whole->input("x")->f32()[t] = xs[t];
  ASSERT_TRUE(whole->Forward().ok());
  std::vector<float> chunked;
  for (int k = 0; k < 2; ++k) {
    for (int t = 0; t < 2; ++t) chunk->input("x")->f32()[t] = xs[2 * k + t];
    ASSERT_TRUE(chunk->Forward().ok());
    for (int t = 0; t < 2; ++t) chunked.push_back(chunk->value("h_t")->f32()[t]);
    chunk->CarryStates();
  }
  for (int t = 0; t < 4; ++t) EXPECT_FLOAT_EQ(chunked[t], whole->value("h_t")->f32()[t]);
  chunk->ResetStates();
  EXPECT_EQ(chunk->carried_states()[0].f32()[0], 0.f);
}

// The gradient of the whole unrolled model against central differences of
// its loss, for every parameter element.
TEST(SessionTest, TextbookGradientsMatchFiniteDifferences) {
  auto c = Compile(kTextbook);
  const int T = 5, N = 3;
  auto s = *Session::Create(c->graph, {{{"T", T}, {"N", N}}});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i = 0; i < T * N; ++i) {
    s->input("x")->f32()[i] = u(rng);
    s->input("target")->f32()[i] = u(rng);
  }
  // Keep the ReLU away from its kink so differences are smooth.
  s->params()[0].f32()[0] = 0.9f;
  s->params()[2].f32()[0] = 0.6f;
  ASSERT_TRUE(s->Forward().ok());
  ASSERT_TRUE(s->Backward().ok());
  for (size_t p = 0; p < s->params().size(); ++p) {
    const Tensor& w = s->params()[p];
    for (int64_t i = 0; i < w.num_elements(); ++i) {
      const float saved = w.f32()[i];
      const float eps = 1e-3f;
      w.f32()[i] = saved + eps;
      ASSERT_TRUE(s->Forward().ok());
      const double up = s->loss();
      w.f32()[i] = saved - eps;
      ASSERT_TRUE(s->Forward().ok());
      const double down = s->loss();
      w.f32()[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(s->param_grads()[p].f32()[i], numeric, 2e-3 * std::max(1.0, std::abs(numeric)))
          << c->graph.params()[p].name;
    }
  }
}

}  // namespace
}  // namespace rnnflow
