// Dropout (graph/op_defs_dropout.cc, ops/dropout_kernel.cc) and the run mode
// that switches it on: mask statistics, identity outside training, masks as a
// function of (seed, step, node, global column, element), workers drawing together
// the one-process mask, shared axes, step mode equal
// to the batched op, finite-difference gradients with the mask fixed, bad
// attributes, the builder, and through the Trainer: validation without
// dropout and an exact resume.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/builder.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/kernel.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/trainer.h"
#include "tests/testing/gradient_check.h"
#include "tests/testing/tiny_lm.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

RunInfo Training(uint64_t seed = 5, int64_t step = 0, int64_t first_column = 0) {
  RunInfo r;
  r.training = true;
  r.seed = seed;
  r.step = step;
  r.first_column = first_column;
  return r;
}

// A Dropout kernel over a fixed shape, run on demand.
class DropoutRunner {
 public:
  // column_axis: the input's axis bound to "N" (-1: none), as a session
  // tells the kernel.
  DropoutRunner(Shape shape, float rate, std::vector<int64_t> shared_axes = {},
                std::string name = "drop", bool step_mode = false, int column_axis = -1)
      : shape_(std::move(shape)) {
    node_.set_name(name);
    node_.set_op("Dropout");
    (*node_.mutable_attr())["rate"] = FloatAttr(rate);
    (*node_.mutable_attr())["shared_axes"] = IntsAttr(std::move(shared_axes));
    KernelInit init;
    init.node_name = name;
    init.op = "Dropout";
    init.attrs = &node_.attr();
    init.input_shapes = {shape_};
    init.input_dtypes = {FLOAT32};
    init.input_present = {true};
    init.input_column_axes = {column_axis};
    init.output_shapes = {shape_};
    init.output_dtypes = {FLOAT32};
    init.step_mode = step_mode;
    auto k = KernelRegistry::Global().Create(init);
    EXPECT_TRUE(k.ok()) << k.status();
    if (k.ok()) kernel_ = *std::move(k);
  }

  // y for x (time_step >= 0: one step of a recurrence).
  std::vector<float> Forward(const std::vector<float>& x, const RunInfo* run,
                             int64_t time_step = -1) {
    std::vector<float> in = x, y(x.size(), -7.f);
    KernelContext ctx;
    ctx.inputs = {Tensor(FLOAT32, shape_, in.data())};
    ctx.outputs = {Tensor(FLOAT32, shape_, y.data())};
    ctx.time_step = time_step;
    ctx.run = run;
    EXPECT_TRUE(kernel_->Forward(ctx).ok());
    return y;
  }

  // dx after Backward, starting from dx = `dx0`.
  std::vector<float> Backward(const std::vector<float>& dy, std::vector<float> dx0,
                              const RunInfo* run) {
    std::vector<float> x(dy.size(), 1.f), y(dy.size()), g = dy;
    KernelContext ctx;
    ctx.inputs = {Tensor(FLOAT32, shape_, x.data())};
    ctx.outputs = {Tensor(FLOAT32, shape_, y.data())};
    ctx.output_grads = {Tensor(FLOAT32, shape_, g.data())};
    ctx.input_grads = {Tensor(FLOAT32, shape_, dx0.data())};
    ctx.run = run;
    EXPECT_TRUE(kernel_->Forward(ctx).ok());
    EXPECT_TRUE(kernel_->Backward(ctx).ok());
    return dx0;
  }

  // Which elements a training pass keeps (x = 1).
  std::vector<bool> Mask(const RunInfo& run) {
    std::vector<float> y = Forward(std::vector<float>(NumElements(shape_), 1.f), &run);
    std::vector<bool> keep(y.size());
    for (size_t i = 0; i < y.size(); ++i) keep[i] = y[i] != 0.f;
    return keep;
  }

 private:
  Shape shape_;
  NodeDef node_;
  std::unique_ptr<OpKernel> kernel_;
};

double FractionDifferent(const std::vector<bool>& a, const std::vector<bool>& b) {
  int64_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += a[i] != b[i];
  return static_cast<double>(diff) / a.size();
}

TEST(DropoutTest, DropsAboutRateAndPreservesTheMean) {
  for (float rate : {0.1f, 0.3f, 0.5f, 0.8f}) {
    DropoutRunner d({50, 40, 100}, rate);  // 200,000 elements
    const RunInfo run = Training();
    std::vector<float> x(200000, 1.f);
    std::vector<float> y = d.Forward(x, &run);
    int64_t dropped = 0;
    double sum = 0;
    for (float v : y) {
      if (v == 0.f) {
        ++dropped;
      } else {
        ASSERT_FLOAT_EQ(v, 1.f / (1.f - rate));  // inverted scaling
      }
      sum += v;
    }
    // One standard error of the fraction is at most 0.0012 here; 5 of them.
    EXPECT_NEAR(static_cast<double>(dropped) / y.size(), rate, 0.006) << rate;
    const double se_mean = std::sqrt(rate / (1 - rate) / y.size());
    EXPECT_NEAR(sum / y.size(), 1.0, 5 * se_mean) << rate;
  }
}

TEST(DropoutTest, IsTheIdentityOutsideTraining) {
  DropoutRunner d({3, 4, 5}, 0.5f);
  std::vector<float> x(60);
  for (int i = 0; i < 60; ++i) x[i] = 0.25f * i - 3.f;
  RunInfo inference = Training();
  inference.training = false;
  EXPECT_EQ(d.Forward(x, nullptr), x);
  EXPECT_EQ(d.Forward(x, &inference), x);
  std::vector<float> dy(60, 2.f), dx0(60, 1.f);
  EXPECT_EQ(d.Backward(dy, dx0, &inference), std::vector<float>(60, 3.f));
  // A training pass does drop (so the identity above is the mode's doing).
  const RunInfo run = Training();
  EXPECT_NE(d.Forward(x, &run), x);
  // Rate 0 keeps everything even in training.
  DropoutRunner none({3, 4, 5}, 0.f);
  EXPECT_EQ(none.Forward(x, &run), x);
}

TEST(DropoutTest, MaskIsAFunctionOfSeedStepNodeColumnAndElement) {
  DropoutRunner d({8, 16, 32}, 0.5f, {}, "drop", false, /*column_axis=*/1);
  const std::vector<bool> base = d.Mask(Training(5, 3, 0));
  EXPECT_EQ(d.Mask(Training(5, 3, 0)), base);  // repeatable
  // Any other coordinate gives an independent mask: half the positions
  // differ at rate 0.5 (2 p (1 - p)).
  EXPECT_NEAR(FractionDifferent(d.Mask(Training(6, 3, 0)), base), 0.5, 0.05);   // seed
  EXPECT_NEAR(FractionDifferent(d.Mask(Training(5, 4, 0)), base), 0.5, 0.05);   // step
  EXPECT_NEAR(FractionDifferent(d.Mask(Training(5, 3, 16)), base), 0.5, 0.05);  // columns
  DropoutRunner other({8, 16, 32}, 0.5f, {}, "drop2", false, 1);
  EXPECT_NEAR(FractionDifferent(other.Mask(Training(5, 3, 0)), base), 0.5, 0.05);  // node
  // The same node name in another kernel (another session) draws the same.
  DropoutRunner same({8, 16, 32}, 0.5f, {}, "drop", false, 1);
  EXPECT_EQ(same.Mask(Training(5, 3, 0)), base);
}

// Draws are keyed by global column: two workers holding columns [0, 4) and
// [4, 8) of a [T, 8, C] batch (first_column 0 and 4) draw together exactly
// the mask one process draws over all 8, so data parallelism with dropout
// computes the one-process update, and a resume may change the worker count.
TEST(DropoutTest, WorkersTogetherDrawTheMaskOfOneProcess) {
  const int64_t T = 5, N = 8, C = 40;
  for (const std::vector<int64_t>& shared : {std::vector<int64_t>{}, std::vector<int64_t>{0}}) {
    DropoutRunner whole({T, N, C}, 0.5f, shared, "drop", false, /*column_axis=*/1);
    DropoutRunner half({T, N / 2, C}, 0.5f, shared, "drop", false, 1);
    const std::vector<bool> all = whole.Mask(Training(5, 3, 0));
    const std::vector<bool> left = half.Mask(Training(5, 3, 0));
    const std::vector<bool> right = half.Mask(Training(5, 3, N / 2));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t c = 0; c < C; ++c) {
          const std::vector<bool>& part = n < N / 2 ? left : right;
          ASSERT_EQ(all[(t * N + n) * C + c], part[(t * (N / 2) + n % (N / 2)) * C + c])
              << "t " << t << " n " << n << " c " << c << " shared " << shared.size();
        }
      }
    }
    // The two workers' own masks are independent (800 draws without sharing).
    if (shared.empty()) {
      EXPECT_NEAR(FractionDifferent(left, right), 0.5, 0.06);
    }
  }
  // Sharing the column axis gives every column, on every worker, one mask.
  DropoutRunner rows({N, C}, 0.5f, {0}, "drop", false, /*column_axis=*/0);
  const std::vector<bool> a = rows.Mask(Training(5, 3, 0));
  EXPECT_EQ(rows.Mask(Training(5, 3, 100)), a);
  for (int64_t n = 1; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) ASSERT_EQ(a[n * C + c], a[c]) << n << " " << c;
  }
}

TEST(DropoutTest, SharedAxesShareOneMaskValue) {
  // [T, N, C] with shared_axes [0]: one mask per (n, c), the same at every t.
  const int64_t T = 6, N = 20, C = 50;
  DropoutRunner d({T, N, C}, 0.4f, {0});
  const std::vector<bool> keep = d.Mask(Training());
  int64_t dropped = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const bool k0 = keep[n * C + c];
      dropped += !k0;
      for (int64_t t = 1; t < T; ++t) ASSERT_EQ(keep[(t * N + n) * C + c], k0) << t << n << c;
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / (N * C), 0.4, 0.06);  // 1,000 draws
  // Negative axes count from the end: -1 shares over the features instead.
  DropoutRunner features({T, N, C}, 0.4f, {-1});
  const std::vector<bool> f = features.Mask(Training());
  for (int64_t r = 0; r < T * N; ++r) {
    for (int64_t c = 1; c < C; ++c) ASSERT_EQ(f[r * C + c], f[r * C]) << r;
  }
}

TEST(DropoutTest, StepModeDrawsTheMaskOfTheWholeSequence) {
  const int64_t T = 5, N = 4, C = 6;
  DropoutRunner batched({T, N, C}, 0.5f, {}, "drop", false, /*column_axis=*/1);
  DropoutRunner step({N, C}, 0.5f, {}, "drop", /*step_mode=*/true, /*column_axis=*/0);
  const RunInfo run = Training(9, 2, /*first_column=*/12);
  std::vector<float> x(T * N * C);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i) + 1.f;
  const std::vector<float> whole = batched.Forward(x, &run);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> xt(x.begin() + t * N * C, x.begin() + (t + 1) * N * C);
    const std::vector<float> yt = step.Forward(xt, &run, t);
    EXPECT_EQ(yt, std::vector<float>(whole.begin() + t * N * C, whole.begin() + (t + 1) * N * C))
        << "step " << t;
  }
}

TEST(DropoutTest, GradientIsTheSameMaskAndScale) {
  GradientCheckOptions o;
  o.run = Training(3, 7);
  NodeDef node = MakeNode({{"rate", FloatAttr(0.4f)}});
  EXPECT_TRUE(
      GradientsMatch(CheckGradients("Dropout", node, {InputSpec::Float({4, 3, 5})}, o), 3e-3));
  NodeDef shared = MakeNode({{"rate", FloatAttr(0.3f)}, {"shared_axes", IntsAttr({0})}});
  EXPECT_TRUE(
      GradientsMatch(CheckGradients("Dropout", shared, {InputSpec::Float({4, 3, 5})}, o), 3e-3));
  o.step_mode = true;
  o.num_steps = 4;
  EXPECT_TRUE(GradientsMatch(CheckGradients("Dropout", node, {InputSpec::Float({3, 5})}, o), 3e-3));
  // Backward: dx += dy / (1 - rate) where kept, nothing where dropped.
  DropoutRunner d({2, 50}, 0.5f);
  const RunInfo run = Training(3, 7);
  const std::vector<bool> keep = d.Mask(run);
  const std::vector<float> dx =
      d.Backward(std::vector<float>(100, 1.f), std::vector<float>(100, 0.5f), &run);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(dx[i], keep[i] ? 2.5f : 0.5f) << i;
}

TEST(DropoutTest, BadAttributesAreNamed) {
  const SymShape x = KnownShape({4, 3, 5});
  auto err = [&](std::vector<std::pair<std::string, AttrValue>> attrs) {
    auto r = RunShapeFn("Dropout", MakeNode(std::move(attrs)), {x}, {FLOAT32});
    return r.ok() ? std::string("OK") : std::string(r.status().message());
  };
  EXPECT_EQ(err({{"rate", FloatAttr(1.f)}}), "attribute 'rate' must be in [0, 1); got 1");
  EXPECT_EQ(err({{"rate", FloatAttr(-0.1f)}}), "attribute 'rate' must be in [0, 1); got -0.1");
  EXPECT_EQ(err({{"rate", FloatAttr(std::nanf(""))}}),
            "attribute 'rate' must be in [0, 1); got nan");
  EXPECT_EQ(err({}), "attribute 'rate' is required");
  EXPECT_EQ(err({{"rate", FloatAttr(0.5f)}, {"shared_axes", IntsAttr({3})}}),
            "attribute 'shared_axes' entry 3 must be in [-3, 3) for input 'x' [4,3,5]");
  EXPECT_EQ(err({{"rate", FloatAttr(0.5f)}, {"shared_axes", IntsAttr({0, -3})}}),
            "attribute 'shared_axes' names axis 0 of input 'x' twice");
  EXPECT_EQ(err({{"rate", FloatAttr(0.f)}, {"shared_axes", IntsAttr({-1})}}), "OK");

  // In a model file the error carries the position and the node.
  auto loaded = ParseModelText(
      "format_version: 1\n"
      "name: \"m\"\n"
      "input { name: \"x\" dtype: FLOAT32 dim: [\"T\", \"N\", \"4\"] }\n"
      "node { name: \"drop\" op: \"Dropout\" input: \"x\"\n"
      "       attr { key: \"rate\" value { f: 1.5 } } }\n"
      "output: \"drop\"\n",
      "m.pbtxt");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  GraphOptions go;
  go.require_loss = false;
  auto graph = Graph::Build(loaded->model, loaded->source, go);
  ASSERT_FALSE(graph.ok());
  EXPECT_THAT(graph.status().message(), HasSubstr("m.pbtxt:5:"));
  EXPECT_THAT(graph.status().message(),
              HasSubstr("node 'drop' (Dropout): attribute 'rate' must be in [0, 1); got 1.5"));
}

TEST(DropoutTest, BuilderMakesTheSameNodeAsAModelFile) {
  GraphBuilder b("m");
  auto x = b.Input("x", FLOAT32, {"T", "N", "4"});
  auto drop =
      b.Node("drop", "Dropout", {x}, {{"rate", 0.25f}, {"shared_axes", std::vector<int64_t>{0}}});
  b.Output(drop);
  GraphOptions go;
  go.require_loss = false;
  auto model = b.Build(go);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->node_size(), 1);
  EXPECT_EQ(model->node(0).op(), "Dropout");
  EXPECT_FLOAT_EQ(model->node(0).attr().at("rate").f(), 0.25f);
  EXPECT_EQ(model->node(0).attr().at("shared_axes").ints().i_size(), 1);
}

// --- the run mode through Session and Trainer --------------------------------

// The tiny LM with dropout on the embeddings (shared over time) and on the
// LSTM's output.
std::string DropoutLm(const char* rate) {
  std::string text = kTinyLmModel;
  auto replace = [&text](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace(R"(op: "LSTM" input: "embed")", R"(op: "LSTM" input: "drop_in")");
  replace(R"(op: "Dense" input: "lstm")", R"(op: "Dense" input: "drop_out")");
  replace(
      "loss: \"loss\"",
      absl::StrCat("node { name: \"drop_in\" op: \"Dropout\" input: \"embed\" attr { key: \"rate\" "
                   "value { f: ",
                   rate, " } } attr { key: \"shared_axes\" value { ints { i: 0 } } } }\n",
                   "node { name: \"drop_out\" op: \"Dropout\" input: \"lstm\" attr { key: \"rate\" "
                   "value { f: ",
                   rate, " } } }\nloss: \"loss\""));
  return text;
}

struct Model {
  LoadedModel loaded;
  Graph graph;
};

std::unique_ptr<Model> Load(const std::string& text) {
  auto loaded = ParseModelText(text, "lm.pbtxt");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  auto graph = Graph::Build(loaded->model, loaded->source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return std::unique_ptr<Model>(new Model{*std::move(loaded), *std::move(graph)});
}

TrainerOptions Options(const std::string& corpus) {
  TrainerOptions o;
  o.data_path = corpus;
  o.threads = 1;
  o.steps = 10;
  o.log = nullptr;
  return o;
}

TEST(DropoutTrainingTest, SessionsStartInInferenceMode) {
  auto m = Load(DropoutLm("0.5"));
  auto s = Session::Create(m->graph, {{{"T", 4}, {"N", 2}}});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE((*s)->run_info().training);
  Tensor tokens = *(*s)->input("tokens");
  for (int i = 0; i < 8; ++i) tokens.i32()[i] = 97 + i;
  ASSERT_TRUE((*s)->Forward().ok());
  Tensor embed = *(*s)->value("embed"), drop = *(*s)->value("drop_in");
  std::vector<float> e(embed.f32(), embed.f32() + embed.num_elements());
  EXPECT_EQ(std::vector<float>(drop.f32(), drop.f32() + drop.num_elements()), e);
  (*s)->set_run_info(Training());
  ASSERT_TRUE((*s)->Forward().ok());
  EXPECT_NE(std::vector<float>(drop.f32(), drop.f32() + drop.num_elements()), e);
}

TEST(DropoutTrainingTest, TrainsWithDropoutAndValidatesWithout) {
  const std::string corpus = WriteTinyLmCorpus("dropout_lm.txt");
  auto with = Load(DropoutLm("0.5"));
  auto without = Load(DropoutLm("0"));
  auto a = Trainer::Create(with->graph, Options(corpus));
  auto b = Trainer::Create(without->graph, Options(corpus));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  // Same seed, same initial parameters: the first training losses differ
  // only through dropout.
  auto sa = (*a)->Step();
  auto sb = (*b)->Step();
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_NE(sa->loss, sb->loss);
  // Validation is a pass without dropout: with b's parameters copied into a,
  // both validate to the same loss, and repeatedly so.
  for (size_t i = 0; i < (*a)->session().params().size(); ++i) {
    const Tensor& from = (*b)->session().params()[i];
    std::copy(from.f32(), from.f32() + from.num_elements(), (*a)->session().params()[i].f32());
  }
  auto va = (*a)->Validate(3);
  auto vb = (*b)->Validate(3);
  ASSERT_TRUE(va.ok() && vb.ok()) << va.status() << vb.status();
  EXPECT_EQ(*va, *vb);
  EXPECT_EQ(*(*a)->Validate(3), *va);
  EXPECT_FALSE((*a)->session().run_info().training);  // left in inference mode
}

TEST(DropoutTrainingTest, ResumedRunDrawsTheSameMasks) {
  const std::string corpus = WriteTinyLmCorpus("dropout_resume.txt");
  auto m = Load(DropoutLm("0.3"));
  auto full = Trainer::Create(m->graph, Options(corpus));
  ASSERT_TRUE(full.ok()) << full.status();
  auto expected = (*full)->Run();
  ASSERT_TRUE(expected.ok()) << expected.status();

  const std::string dir = ::testing::TempDir() + "/dropout_resume_ckpt";
  std::filesystem::remove_all(dir);
  TrainerOptions first = Options(corpus);
  first.checkpoint_dir = dir;
  int polls = 0;
  first.stop_requested = [&polls] { return ++polls > 4; };
  auto a = Trainer::Create(m->graph, first);
  ASSERT_TRUE(a.ok()) << a.status();
  auto part1 = (*a)->Run();
  ASSERT_TRUE(part1.ok()) << part1.status();
  ASSERT_EQ((*a)->step(), 4);
  TrainerOptions second = Options(corpus);
  second.checkpoint_dir = dir;
  second.resume = true;
  auto b = Trainer::Create(m->graph, second);
  ASSERT_TRUE(b.ok()) << b.status();
  auto part2 = (*b)->Run();
  ASSERT_TRUE(part2.ok()) << part2.status();
  std::vector<float> got, want;
  for (const StepResult& r : *part1) got.push_back(r.loss);
  for (const StepResult& r : *part2) got.push_back(r.loss);
  for (const StepResult& r : *expected) want.push_back(r.loss);
  EXPECT_EQ(got, want);  // bit for bit
}

}  // namespace
}  // namespace rnnflow
