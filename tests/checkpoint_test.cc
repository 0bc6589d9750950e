// Checkpoint files: round trip, corruption and truncation detection, model
// checks, pruning, atomic writes, exact in-process resume of a Trainer, and
// a trained graph's checkpoint and parameters (runtime/graph_checkpoint.h).
#include "rnnflow/runtime/checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "rnnflow/runtime/initializer.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh, empty directory under the test temp dir.
std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/rnnflow_ckpt_", getpid(), "_", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

CheckpointData SampleData(int64_t step) {
  CheckpointData d;
  d.model_hash = 0x0123456789ABCDEFull;
  d.model_name = "sample";
  d.step = step;
  d.optimizer_step = step;
  d.schedule_step = step;
  d.total_steps = 1000;
  d.truncation_steps = 16;
  d.num_streams = 4;
  d.stream_length = 12345;
  d.stream_position = 16 * step;
  d.seed = 7;
  d.rng_state = 0xFEEDFACECAFEBEEFull;
  d.params.push_back({"embed/table", {3, 2}, {1, 2, 3, 4, 5, 6.5f}});
  d.params.push_back({"dense/bias", {2}, {-1, static_cast<float>(step)}});
  d.optimizer.push_back({"embed/table/m", {3, 2}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}});
  d.optimizer.push_back({"dense/bias/m", {2}, {0, 1}});
  d.carried.push_back({"lstm/h", {4, 3}, std::vector<float>(12, 0.25f)});
  return d;
}

std::string Single(const std::string& dir) {
  auto files = ListCheckpoints(dir);
  EXPECT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->size(), 1u);
  return files->empty() ? "" : files->front();
}

TEST(CheckpointTest, Crc32cOfTheStandardCheckString) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  // Continuing a CRC over two pieces equals one pass.
  EXPECT_EQ(Crc32c("6789", 4, Crc32c("12345", 5)), 0xE3069283u);
  std::string long_text(1000, 'x');
  EXPECT_EQ(Crc32c(long_text.data(), 1000),
            Crc32c(long_text.data() + 13, 987, Crc32c(long_text.data(), 13)));
}

TEST(CheckpointTest, RoundTripKeepsEveryField) {
  const std::string dir = FreshDir("roundtrip");
  const CheckpointData d = SampleData(42);
  ASSERT_TRUE(SaveCheckpoint(dir, d, 3).ok());
  auto loaded = LoadLatestCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, dir + "/ckpt-0000000042.rfck");
  EXPECT_EQ(loaded->model_hash, d.model_hash);
  EXPECT_EQ(loaded->model_name, "sample");
  EXPECT_EQ(loaded->step, 42);
  EXPECT_EQ(loaded->optimizer_step, 42);
  EXPECT_EQ(loaded->schedule_step, 42);
  EXPECT_EQ(loaded->total_steps, 1000);
  EXPECT_EQ(loaded->truncation_steps, 16);
  EXPECT_EQ(loaded->num_streams, 4);
  EXPECT_EQ(loaded->stream_length, 12345);
  EXPECT_EQ(loaded->stream_position, 16 * 42);
  EXPECT_EQ(loaded->seed, 7u);
  EXPECT_EQ(loaded->rng_state, d.rng_state);
  auto same = [](const std::vector<CheckpointTensor>& a, const std::vector<CheckpointTensor>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].shape, b[i].shape);
      EXPECT_EQ(a[i].values, b[i].values);
    }
  };
  same(loaded->params, d.params);
  same(loaded->optimizer, d.optimizer);
  same(loaded->carried, d.carried);

  // The documented layout: magic, version 1, and the size rule.
  const std::string bytes = ReadAll(loaded->path);
  ASSERT_GE(bytes.size(), 32u);
  EXPECT_EQ(bytes.substr(0, 8), "RNNFCKPT");
  EXPECT_EQ(bytes[8], 1);
  uint64_t payload = 0;
  for (int i = 0; i < 8; ++i) payload |= uint64_t{static_cast<uint8_t>(bytes[16 + i])} << (8 * i);
  EXPECT_EQ(bytes.size(), 32 + payload);
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "RFCK");
}

TEST(CheckpointTest, EveryFlippedByteIsRejectedWithTheFileName) {
  const std::string dir = FreshDir("flip");
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(5), 3).ok());
  const std::string path = Single(dir);
  const std::string good = ReadAll(path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    WriteAll(path, bad);
    auto loaded = LoadCheckpoint(path);
    ASSERT_FALSE(loaded.ok()) << "a flipped byte at offset " << i << " was not detected";
    EXPECT_THAT(loaded.status().message(), HasSubstr(path)) << "offset " << i;
  }
  // A flipped payload byte is reported as a checksum mismatch.
  std::string bad = good;
  bad[good.size() / 2] ^= 0x01;
  WriteAll(path, bad);
  auto loaded = LoadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("checksum mismatch"));
  // With the only checkpoint corrupt, nothing is loaded and the file is named.
  auto latest = LoadLatestCheckpoint(dir);
  ASSERT_FALSE(latest.ok());
  EXPECT_THAT(latest.status().message(), HasSubstr(path));
  EXPECT_THAT(latest.status().message(), HasSubstr("checksum mismatch"));
}

TEST(CheckpointTest, EveryTruncationIsRejected) {
  const std::string dir = FreshDir("truncate");
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(5), 3).ok());
  const std::string path = Single(dir);
  const std::string good = ReadAll(path);
  for (size_t n = 0; n < good.size(); ++n) {
    WriteAll(path, good.substr(0, n));
    auto loaded = LoadCheckpoint(path);
    ASSERT_FALSE(loaded.ok()) << "a file cut to " << n << " bytes was loaded";
    EXPECT_THAT(loaded.status().message(), HasSubstr(path));
    if (n >= 24) {
      EXPECT_THAT(loaded.status().message(), HasSubstr("truncated")) << n;
      EXPECT_THAT(loaded.status().message(),
                  HasSubstr(absl::StrCat("should be ", good.size(), " bytes long; it is ", n)));
    }
  }
  WriteAll(path, good + "x");
  EXPECT_FALSE(LoadCheckpoint(path).ok());
  WriteAll(path, good);
  EXPECT_TRUE(LoadCheckpoint(path).ok());
}

TEST(CheckpointTest, UnsupportedVersionIsNamed) {
  const std::string dir = FreshDir("version");
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(1), 3).ok());
  const std::string path = Single(dir);
  std::string bytes = ReadAll(path);
  bytes[8] = 9;
  WriteAll(path, bytes);
  auto loaded = LoadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("format version 9 is not supported"));
}

TEST(CheckpointTest, KeepsOnlyTheLastK) {
  const std::string dir = FreshDir("keep");
  for (int64_t step : {10, 20, 30, 40, 50, 60}) {
    ASSERT_TRUE(SaveCheckpoint(dir, SampleData(step), 3).ok());
  }
  auto files = ListCheckpoints(dir);
  ASSERT_TRUE(files.ok());
  EXPECT_THAT(*files,
              ::testing::ElementsAre(dir + "/ckpt-0000000040.rfck", dir + "/ckpt-0000000050.rfck",
                                     dir + "/ckpt-0000000060.rfck"));
  // Ordering is by step, not by name length: step 100 is the newest.
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(100), 2).ok());
  files = ListCheckpoints(dir);
  EXPECT_THAT(*files,
              ::testing::ElementsAre(dir + "/ckpt-0000000060.rfck", dir + "/ckpt-0000000100.rfck"));
  // keep_last 0 keeps everything.
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(110), 0).ok());
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(120), 0).ok());
  EXPECT_EQ(ListCheckpoints(dir)->size(), 4u);
}

TEST(CheckpointTest, LeftoverTemporaryFileIsIgnoredAndCleanedUp) {
  const std::string dir = FreshDir("temp");
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(10), 3).ok());
  // A run killed while writing step 20 leaves a partial temporary file.
  const std::string full = ReadAll(dir + "/ckpt-0000000010.rfck");
  const std::string temp = dir + "/.ckpt-0000000020.rfck.tmp";
  WriteAll(temp, full.substr(0, full.size() / 2));
  WriteAll(dir + "/notes.txt", "not a checkpoint");
  auto files = ListCheckpoints(dir);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
  auto latest = LoadLatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 10);
  // The next save removes it (and leaves unrelated files alone).
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(20), 3).ok());
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_TRUE(fs::exists(dir + "/notes.txt"));
  EXPECT_EQ(LoadLatestCheckpoint(dir)->step, 20);
}

TEST(CheckpointTest, CorruptNewestFallsBackToTheNextWithAWarning) {
  const std::string dir = FreshDir("fallback");
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(10), 3).ok());
  ASSERT_TRUE(SaveCheckpoint(dir, SampleData(20), 3).ok());
  const std::string newest = dir + "/ckpt-0000000020.rfck";
  const std::string bytes = ReadAll(newest);
  WriteAll(newest, bytes.substr(0, bytes.size() - 100));
  std::vector<std::string> warnings;
  auto latest = LoadLatestCheckpoint(dir, &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 10);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr(newest));
  EXPECT_THAT(warnings[0], HasSubstr("truncated"));
}

TEST(CheckpointTest, EmptyOrMissingDirectoryIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(LoadLatestCheckpoint(FreshDir("empty")).status()));
  EXPECT_TRUE(absl::IsNotFound(LoadLatestCheckpoint("/nonexistent/rnnflow/ckpts").status()));
}

TEST(CheckpointTest, RestoreNamesTheTensorAndBothShapes) {
  std::vector<float> buffer(6);
  Tensor dst(FLOAT32, {2, 3}, buffer.data());
  std::vector<CheckpointTensor> saved = {{"embed/table", {3, 2}, std::vector<float>(6, 1.f)}};
  const std::vector<std::string> names = {"embed/table"};
  absl::Status s = RestoreCheckpointTensors("x.rfck", "parameter", saved, names, {dst});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("x.rfck"));
  EXPECT_THAT(s.message(), HasSubstr("parameter 'embed/table'"));
  EXPECT_THAT(s.message(), HasSubstr("expects shape [2,3], the checkpoint has [3,2]"));

  const std::vector<std::string> other = {"dense/kernel"};
  s = RestoreCheckpointTensors("x.rfck", "parameter", saved, other, {dst});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("'dense/kernel'"));

  saved[0].shape = {2, 3};
  EXPECT_TRUE(RestoreCheckpointTensors("x.rfck", "parameter", saved, names, {dst}).ok());
  EXPECT_EQ(buffer, std::vector<float>(6, 1.f));
}

// --- through the Trainer ------------------------------------------------------

constexpr char kModel[] = R"(
format_version: 1
name: "ckpt_lm"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: HIDDEN } } LSTM_ATTRS }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] EXTRA }
loss: "loss"
training {
  adam {}
  learning_rate { base: 0.01 schedule: "cosine" warmup_steps: 3 }
  clip_global_norm: 5
  truncation_steps: 8
  streams_per_worker: 4
  seed: 11
  steps: 24
}
)";

struct Built {
  LoadedModel parsed;
  Graph graph;
};

// kModel with LSTM width `hidden`, `extra` attributes on the loss node and
// `lstm_attrs` on the LSTM.
std::unique_ptr<Built> BuildModel(int hidden = 16, const std::string& extra = "",
                                  const std::string& lstm_attrs = "") {
  std::string text = kModel;
  text.replace(text.find("HIDDEN"), 6, std::to_string(hidden));
  text.replace(text.find("LSTM_ATTRS"), 10, lstm_attrs);
  text.replace(text.find("EXTRA"), 5, extra);
  auto parsed = ParseModelText(text, "ckpt_lm.pbtxt");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto graph = Graph::Build(parsed->model, parsed->source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return std::unique_ptr<Built>(new Built{*std::move(parsed), *std::move(graph)});
}

std::string Corpus() {
  static const std::string path = [] {
    std::string text;
    uint32_t x = 12345;
    while (text.size() < 20000) {
      x = x * 1103515245u + 12345u;
      text += "the quick brown fox jumps over the lazy dog "[(x >> 16) % 44];
      if (text.size() % 7 == 0) text += "abacabad";
    }
    const std::string p =
        absl::StrCat(::testing::TempDir(), "/rnnflow_ckpt_corpus_", getpid(), ".txt");
    WriteAll(p, text);
    return p;
  }();
  return path;
}

TrainerOptions Options(const std::string& dir) {
  TrainerOptions o;
  o.data_path = Corpus();
  o.threads = 1;
  o.checkpoint_dir = dir;
  o.checkpoint_every = 5;
  o.valid_every = 4;  // validation between steps must not disturb training
  o.valid_chunks = 3;
  return o;
}

std::vector<float> Losses(const std::vector<StepResult>& r) {
  std::vector<float> out;
  for (const StepResult& s : r) out.push_back(s.loss);
  return out;
}

TEST(CheckpointTrainerTest, ResumedTrainerRepeatsTheLossesExactly) {
  auto model = BuildModel();
  const std::string full_dir = FreshDir("trainer_full");
  auto full = Trainer::Create(model->graph, Options(full_dir));
  ASSERT_TRUE(full.ok()) << full.status();
  auto expected = (*full)->Run();
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ(expected->size(), 24u);

  // Stop after 13 steps (checkpoint at 13), then continue in a new trainer.
  const std::string dir = FreshDir("trainer_split");
  TrainerOptions first = Options(dir);
  int polls = 0;
  first.stop_requested = [&polls] { return ++polls > 13; };
  auto a = Trainer::Create(model->graph, first);
  ASSERT_TRUE(a.ok());
  auto part1 = (*a)->Run();
  ASSERT_TRUE(part1.ok()) << part1.status();
  EXPECT_TRUE((*a)->interrupted());
  EXPECT_EQ((*a)->step(), 13);
  EXPECT_EQ(LoadLatestCheckpoint(dir)->step, 13);
  EXPECT_EQ(ListCheckpoints(dir)->size(), 3u);  // 5, 10, 13

  TrainerOptions second = Options(dir);
  second.resume = true;
  auto b = Trainer::Create(model->graph, second);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->step(), 13);
  auto part2 = (*b)->Run();
  ASSERT_TRUE(part2.ok()) << part2.status();
  EXPECT_FALSE((*b)->interrupted());

  std::vector<float> got = Losses(*part1);
  for (float l : Losses(*part2)) got.push_back(l);
  EXPECT_EQ(got, Losses(*expected));  // bit for bit
  for (size_t i = 0; i < part2->size(); ++i) {
    EXPECT_EQ((*part2)[i].learning_rate, (*expected)[13 + i].learning_rate) << "step " << 14 + i;
    EXPECT_EQ((*part2)[i].step, 14 + static_cast<int64_t>(i));
  }
  // The final checkpoints of both runs hold the same parameters.
  auto final_full = LoadCheckpoint(full_dir + "/ckpt-0000000024.rfck");
  auto final_split = LoadLatestCheckpoint(dir);
  ASSERT_TRUE(final_full.ok()) << final_full.status();
  ASSERT_TRUE(final_split.ok());
  ASSERT_EQ(final_split->step, 24);
  for (size_t i = 0; i < final_full->params.size(); ++i) {
    EXPECT_EQ(final_full->params[i].values, final_split->params[i].values);
  }
}

TEST(CheckpointTrainerTest, ResumeWithoutCheckpointStartsFresh) {
  auto model = BuildModel();
  TrainerOptions o = Options(FreshDir("fresh"));
  o.resume = true;
  std::ostringstream log;
  o.log = &log;
  auto t = Trainer::Create(model->graph, o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->step(), 0);
  EXPECT_THAT(log.str(), HasSubstr("starting from step 0"));
}

// Two steps of BuildModel()'s model, checkpointed in `dir`.
void TrainTwoSteps(const std::string& dir) {
  auto model = BuildModel();
  TrainerOptions o = Options(dir);
  o.steps = 2;
  auto t = Trainer::Create(model->graph, o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE((*t)->Run().ok());
}

// The identity ignores how a model computes (its training block, the RNN
// nodes' precision) but not what it computes; checkpoints written when the
// precision was part of it still belong to the same file.
TEST(CheckpointTest, ModelHashIgnoresTrainingAndPrecisionOnly) {
  const ModelDef f32 = BuildModel()->parsed.model;
  ModelDef bf16 = f32, retrained = f32, wider = f32;
  for (NodeDef& node : *bf16.mutable_node()) {
    if (node.op() == "LSTM") (*node.mutable_attr())["precision"].set_s("bf16");
  }
  retrained.mutable_training()->set_steps(1000);
  wider.mutable_node(1)->mutable_attr()->at("hidden").set_i(24);
  EXPECT_EQ(ModelHash(bf16), ModelHash(f32));
  EXPECT_EQ(ModelHash(retrained), ModelHash(f32));
  EXPECT_NE(ModelHash(wider), ModelHash(f32));
  EXPECT_TRUE(CheckpointBelongsTo(ModelHash(f32), bf16));
  EXPECT_FALSE(CheckpointBelongsTo(ModelHash(wider), f32));
  // The hash bf16's checkpoints had before: still accepted by the same file.
  ModelDef legacy = bf16;
  legacy.clear_training();
  const uint64_t old_hash = StableHash(ModelToText(legacy));
  EXPECT_NE(old_hash, ModelHash(bf16));
  EXPECT_TRUE(CheckpointBelongsTo(old_hash, bf16));
}

// A float32 run resumes with its LSTM in bfloat16 (or where bf16 kernels
// are missing, in float32 again: the CPU fallback).
TEST(CheckpointTrainerTest, Float32CheckpointResumesInBfloat16) {
  const std::string dir = FreshDir("to_bf16");
  TrainTwoSteps(dir);
  auto bf16 = BuildModel(16, "", R"(attr { key: "precision" value { s: "bf16" } })");
  TrainerOptions o = Options(dir);
  o.resume = true;
  o.steps = 4;
  auto t = Trainer::Create(bf16->graph, o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE((*t)->Run().ok());
  EXPECT_EQ((*t)->step(), 4);
}

TEST(CheckpointTrainerTest, DifferentModelIsAClearError) {
  const std::string dir = FreshDir("wrong_model");
  TrainTwoSteps(dir);
  // Another hidden width: the first differing parameter is named with both
  // shapes.
  {
    auto model = BuildModel(24);
    TrainerOptions o = Options(dir);
    o.resume = true;
    auto t = Trainer::Create(model->graph, o);
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(), HasSubstr(dir + "/ckpt-0000000002.rfck"));
    EXPECT_THAT(t.status().message(), HasSubstr("parameter 'lstm/"));
    EXPECT_THAT(t.status().message(), HasSubstr("the model expects shape"));
    EXPECT_THAT(t.status().message(), HasSubstr("the checkpoint has"));
  }
  // Same parameter shapes, different graph: caught by the model hash.
  {
    auto model = BuildModel(16, R"(attr { key: "ignore_label" value { i: 0 } })");
    TrainerOptions o = Options(dir);
    o.resume = true;
    auto t = Trainer::Create(model->graph, o);
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(), HasSubstr("written for a different model"));
  }
  // A different T cannot continue exactly.
  {
    auto model = BuildModel();
    TrainerOptions o = Options(dir);
    o.resume = true;
    o.truncation_steps = 4;
    auto t = Trainer::Create(model->graph, o);
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(), HasSubstr("truncation_steps (T) 8; this run uses 4"));
  }
  // The training block is not part of the identity: a longer run resumes.
  {
    auto model = BuildModel();
    TrainerOptions o = Options(dir);
    o.resume = true;
    o.steps = 4;
    auto t = Trainer::Create(model->graph, o);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ((*t)->step(), 2);
    auto r = (*t)->Run();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 2u);
  }
}

// --- a trained graph's checkpoint (graph_checkpoint.h) -------------------------

TEST(GraphCheckpointTest, LoadGraphReadsAndBuildsAModelFile) {
  const std::string dir = FreshDir("load_graph");
  std::string text = kModel;
  text.replace(text.find("HIDDEN"), 6, "16");
  text.replace(text.find("LSTM_ATTRS"), 10, "");
  text.replace(text.find("EXTRA"), 5, "");
  WriteAll(dir + "/model.pbtxt", text);
  auto graph = LoadGraph(dir + "/model.pbtxt");
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->model().name(), "ckpt_lm");
  EXPECT_EQ(graph->NumParameters(), BuildModel()->graph.NumParameters());

  EXPECT_THAT(LoadGraph(dir + "/absent.pbtxt").status().message(), HasSubstr("absent.pbtxt"));
  // Errors from building point into the file.
  WriteAll(dir + "/bad.pbtxt", text.substr(0, text.find("loss: \"loss\"")) + "loss: \"nope\"\n");
  auto bad = LoadGraph(dir + "/bad.pbtxt");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.pbtxt:"));
  // Inference-only graphs need no loss.
  WriteAll(dir + "/no_loss.pbtxt", text.substr(0, text.find("loss: \"loss\"")));
  EXPECT_FALSE(LoadGraph(dir + "/no_loss.pbtxt").ok());
  GraphOptions inference;
  inference.require_loss = false;
  EXPECT_TRUE(LoadGraph(dir + "/no_loss.pbtxt", inference).ok());
}

TEST(GraphCheckpointTest, LoadsTheNewestValidCheckpointOfItsModel) {
  const std::string dir = FreshDir("for_graph");
  TrainTwoSteps(dir);
  auto model = BuildModel();
  std::vector<std::string> warnings;
  auto latest = LoadCheckpointFor(model->graph, dir, &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 2);
  EXPECT_TRUE(warnings.empty());
  // A file names itself.
  auto file = LoadCheckpointFor(model->graph, latest->path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->path, latest->path);

  // A newer corrupt checkpoint is skipped, and the caller is told why.
  CheckpointData newer = *latest;
  newer.step = 3;
  ASSERT_TRUE(SaveCheckpoint(dir, newer, 0).ok());
  const std::string corrupt = dir + "/ckpt-0000000003.rfck";
  const std::string bytes = ReadAll(corrupt);
  WriteAll(corrupt, bytes.substr(0, bytes.size() / 2));
  auto fallback = LoadCheckpointFor(model->graph, dir, &warnings);
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_EQ(fallback->step, 2);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr(corrupt));
  EXPECT_TRUE(LoadCheckpointFor(model->graph, dir).ok());  // warnings are optional

  EXPECT_TRUE(absl::IsNotFound(LoadCheckpointFor(model->graph, FreshDir("none")).status()));
}

TEST(GraphCheckpointTest, ACheckpointOfAnotherGraphIsRefusedNamingBoth) {
  const std::string dir = FreshDir("other_graph");
  TrainTwoSteps(dir);
  // Same parameter shapes, another graph: only the model hash tells.
  auto other = BuildModel(16, R"(attr { key: "ignore_label" value { i: 0 } })");
  auto loaded = LoadCheckpointFor(other->graph, dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(loaded.status())) << loaded.status();
  EXPECT_THAT(loaded.status().message(), HasSubstr(dir + "/ckpt-0000000002.rfck"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("'ckpt_lm'"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("the model file it was trained with"));
}

TEST(GraphCheckpointTest, RestoreParamsCopiesEveryParameterByName) {
  const std::string dir = FreshDir("restore");
  TrainTwoSteps(dir);
  auto model = BuildModel();
  auto ckpt = LoadCheckpointFor(model->graph, dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  SessionOptions so;
  so.bindings = {{"T", 4}, {"N", 2}};
  so.training = false;
  auto session = Session::Create(model->graph, so);
  ASSERT_TRUE(session.ok()) << session.status();
  const std::vector<Tensor>& params = (*session)->params();
  ASSERT_TRUE(RestoreParams(model->graph, *ckpt, params).ok());
  ASSERT_EQ(params.size(), model->graph.params().size());
  for (size_t i = 0; i < params.size(); ++i) {
    const CheckpointTensor* saved = nullptr;
    for (const CheckpointTensor& t : ckpt->params) {
      if (t.name == model->graph.params()[i].name) saved = &t;
    }
    ASSERT_NE(saved, nullptr) << model->graph.params()[i].name;
    EXPECT_EQ(std::vector<float>(params[i].f32(), params[i].f32() + params[i].num_elements()),
              saved->values)
        << saved->name;
  }
  // A wider model's parameters do not fit: the error names the parameter.
  auto wider = BuildModel(24);
  auto wide_session = Session::Create(wider->graph, so);
  ASSERT_TRUE(wide_session.ok()) << wide_session.status();
  absl::Status s = RestoreParams(wider->graph, *ckpt, (*wide_session)->params());
  EXPECT_THAT(s.message(), HasSubstr("parameter 'lstm/"));
}

TEST(GraphCheckpointTest, TrainedWindowIsTheCheckpointsOrTheModels) {
  auto model = BuildModel();
  CheckpointData c;
  c.series_window = 12;
  EXPECT_EQ(TrainedWindow(model->graph, c), 12);
  c.series_window = 0;  // stateful
  EXPECT_EQ(TrainedWindow(model->graph, c), 0);
  c.series_window = -1;  // not recorded: the model's training.window
  EXPECT_EQ(TrainedWindow(model->graph, c), model->graph.model().training().window());
  ModelDef seven = model->graph.model();
  seven.mutable_training()->set_window(7);
  auto graph = Graph::Build(seven, model->graph.source());
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(TrainedWindow(*graph, c), 7);
}

}  // namespace
}  // namespace rnnflow
