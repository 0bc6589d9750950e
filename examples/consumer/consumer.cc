// A program of your own on an installed rnnflow (find_package(rnnflow) in
// CMakeLists.txt): it builds a small character-level LSTM with the C++ graph
// builder, trains it on a generated text, checks that the loss falls, and
// reads back the checkpoint it saved. Under mpirun the ranks train one model
// data-parallel and check that they end with the same parameters.
//
//   consumer WORK_DIR                   # one process
//   mpirun -np 2 consumer WORK_DIR      # two ranks; WORK_DIR seen by both
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/builder.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/initializer.h"
#include "rnnflow/training/trainer.h"

namespace {

constexpr int kSteps = 2000;

// Bytes -> embedding -> LSTM -> logits over the next byte. Each optimizer step
// trains on 16 bytes of 8 streams of the text (per process), carrying the
// LSTM's state from one chunk of a stream to the next.
absl::StatusOr<rnnflow::ModelDef> BuildModel() {
  rnnflow::GraphBuilder b("periodic_lm");
  auto bytes = b.Input("bytes", rnnflow::INT32, {"T", "N"}, rnnflow::TOKENS);
  auto next = b.Input("next", rnnflow::INT32, {"T", "N"}, rnnflow::NEXT_TOKENS);
  auto embed = b.Node("embed", "Embedding", {bytes}, {{"vocab", 256}, {"dim", 16}});
  auto lstm = b.Node("lstm", "LSTM", {embed}, {{"hidden", 32}});
  auto logits = b.Node("logits", "Dense", {lstm}, {{"units", 256}});
  b.Loss(b.Node("loss", "SoftmaxCrossEntropy", {logits, next}));
  rnnflow::TrainingDef& training = b.Training();
  training.mutable_adam();
  training.mutable_learning_rate()->set_base(0.01f);
  training.set_clip_global_norm(5);
  training.set_truncation_steps(16);
  training.set_streams_per_worker(8);
  training.set_steps(kSteps);
  training.set_seed(3);
  return b.Build();
}

// "abacabadabae" repeated. After "aba" comes c, d or e, depending on the byte
// before "aba": a model that sees only the current byte stays at 0.62 nats per
// byte; one that carries 5 bytes of context can reach 0.
absl::Status WriteText(const std::string& path) {
  std::error_code ignored;  // a folder that cannot be made fails the write below
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  std::ofstream out(path);
  for (int i = 0; i < 5000; ++i) out << "abacabadabae";
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// The parameters in the newest checkpoint of `dir` are those of `session`.
absl::Status CheckCheckpoint(const std::string& dir, const rnnflow::Graph& graph,
                             const rnnflow::Session& session) {
  RF_ASSIGN_OR_RETURN(rnnflow::CheckpointData checkpoint, rnnflow::LoadLatestCheckpoint(dir));
  if (checkpoint.params.size() != graph.params().size()) {
    return absl::DataLossError(absl::StrCat(checkpoint.path, ": ", checkpoint.params.size(),
                                            " parameters, expected ", graph.params().size()));
  }
  for (size_t i = 0; i < checkpoint.params.size(); ++i) {
    const rnnflow::Tensor& trained = session.params()[i];
    const std::vector<float>& saved = checkpoint.params[i].values;
    if (checkpoint.params[i].name != graph.params()[i].name ||
        !std::equal(saved.begin(), saved.end(), trained.f32(),
                    trained.f32() + trained.num_elements())) {
      return absl::DataLossError(absl::StrCat(checkpoint.path, ": parameter ",
                                              graph.params()[i].name, " differs from training"));
    }
  }
  return absl::OkStatus();
}

// A hash of every parameter, for comparing ranks.
uint64_t ParamsHash(const rnnflow::Session& session) {
  uint64_t hash = 0;
  for (const rnnflow::Tensor& p : session.params()) {
    hash =
        rnnflow::StableHash(std::string(static_cast<const char*>(p.data()), p.num_bytes()), hash);
  }
  return hash;
}

int Fail(const absl::Status& status) {
  std::cerr << "consumer: " << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: [mpirun -np R] consumer WORK_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];

  // Under mpirun every rank runs this program; gradients are averaged by a
  // bucketed all-reduce while the backward pass runs.
  rnnflow::TrainerOptions options;
  std::unique_ptr<rnnflow::MpiWorld> world;
  std::unique_ptr<rnnflow::BucketedAllReducer> reducer;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr) {
    auto w = rnnflow::MpiWorld::Init(&argc, &argv);
    if (!w.ok()) return Fail(w.status());
    world = *std::move(w);
    reducer = std::make_unique<rnnflow::BucketedAllReducer>(world->comm(), 4 << 20);
    options.reducer = reducer.get();
    options.workers = world.get();
    options.world_rank = world->rank();
    options.world_size = world->size();
  }
  const bool report = options.world_rank == 0;

  // Rank 0 writes the text; the others wait for it.
  const std::string text = dir + "/text.txt";
  absl::Status written = absl::OkStatus();
  if (report) written = WriteText(text);
  if (world != nullptr && !world->AllOk(written.ok())) {
    return Fail(written.ok() ? absl::AbortedError("rank 0 could not write the text") : written);
  }
  if (!written.ok()) return Fail(written);

  auto model = BuildModel();
  if (!model.ok()) return Fail(model.status());
  auto graph = rnnflow::Graph::Build(*model, rnnflow::SourceMap("consumer.cc"));
  if (!graph.ok()) return Fail(graph.status());

  options.data_path = text;  // raw text: byte tokens, the last 10% for validation
  options.checkpoint_dir = dir + "/checkpoints";
  options.checkpoint_every = 0;  // one checkpoint, after the last step
  options.log_every = 500;
  if (report) options.log = &std::cout;
  auto trainer = rnnflow::Trainer::Create(*graph, options);
  if (!trainer.ok()) return Fail(trainer.status());
  auto steps = (*trainer)->Run();
  if (!steps.ok()) return Fail(steps.status());

  // Chance is ln 256 = 5.5 nats per byte; below 0.5 the model uses context
  // beyond the current byte (see WriteText).
  float last = 0;
  for (int i = 0; i < 10; ++i) last += (*steps)[steps->size() - 1 - i].loss / 10;
  if (!(steps->front().loss > 4.0f && last < 0.5f)) {
    return Fail(absl::InternalError(absl::StrCat("the loss went from ", steps->front().loss, " to ",
                                                 last, "; expected > 4 then < 0.5")));
  }
  if (auto st = CheckCheckpoint(options.checkpoint_dir, *graph, (*trainer)->session()); !st.ok()) {
    return Fail(st);
  }
  if (world != nullptr) {
    if (auto st =
            world->CheckSameEverywhere("the trained parameters", ParamsHash((*trainer)->session()));
        !st.ok()) {
      return Fail(st);
    }
  }
  if (report) {
    std::cout << "loss " << steps->front().loss << " -> " << last << " nats per byte over "
              << steps->size() << " steps; checkpoint " << (*trainer)->last_checkpoint()
              << " holds the trained parameters";
    if (world != nullptr) std::cout << "; " << world->size() << " ranks agree";
    std::cout << "\n";
  }
  return 0;
}
