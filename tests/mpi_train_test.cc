// `rnnflow train` under a real `mpirun -np 2`: data-parallel start-up, the
// fail-fast configuration check, a rank killed mid-run, and checkpoints
// written by one rank count and resumed by another.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/runtime/checkpoint.h"
#include "tests/testing/command_line.h"

namespace {

using testing::HasSubstr;

using rnnflow::CommandResult;
using rnnflow::RunCommand;

std::string Mpirun() {
  return absl::StrCat("OMP_NUM_THREADS=1 mpirun --oversubscribe ",
                      geteuid() == 0 ? "--allow-run-as-root " : "");
}

// The "loss" of every line of a --metrics file, in order.
std::vector<double> Losses(const std::string& path) {
  std::ifstream in(path);
  std::vector<double> out;
  std::string line;
  while (std::getline(in, line)) {
    const std::string loss = rnnflow::MetricsField(line, "loss");
    if (loss.empty()) continue;
    double v = 0;
    EXPECT_TRUE(absl::SimpleAtod(loss, &v)) << line;
    out.push_back(v);
  }
  return out;
}

// The newest checkpoint of `dir`, loaded.
rnnflow::CheckpointData Newest(const std::string& dir) {
  auto c = rnnflow::LoadLatestCheckpoint(dir);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : rnnflow::CheckpointData();
}

// Tolerance of the resume comparisons: 2 ranks x N add the same per-column
// gradients in another order than 1 process x 2N (per rank, then across
// ranks); over these 20 Adam steps that moved losses and parameters by at
// most a few float ulps (about 1e-7 relative), so 1e-5 is ample and still
// far below what a wrong column, state or step would cause (>= 1e-3).
constexpr double kTolerance = 1e-5;

void ExpectSameTensors(const std::vector<rnnflow::CheckpointTensor>& a,
                       const std::vector<rnnflow::CheckpointTensor>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].name, b[k].name) << what;
    ASSERT_EQ(a[k].shape, b[k].shape) << what << " " << a[k].name;
    for (size_t i = 0; i < a[k].values.size(); ++i) {
      ASSERT_NEAR(a[k].values[i], b[k].values[i], kTolerance)
          << what << " " << a[k].name << "[" << i << "]";
    }
  }
}

class MpiTrainTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = rnnflow::FreshTestDir("rnnflow_mpi_train_test");
    rnnflow::WriteCatSatCorpus(dir_ + "/corpus.txt", 60000);
    std::ofstream(dir_ + "/model.pbtxt") << rnnflow::TinyByteLmModel(
        "tiny",
        "{ adam {} learning_rate { base: 0.01 } truncation_steps: 16 streams_per_worker: 2 }");
    train_ = absl::StrCat(rnnflow::RnnflowBinary(), " train ", dir_, "/model.pbtxt --data ", dir_,
                          "/corpus.txt");
  }
  std::string dir_, train_;
};

TEST_F(MpiTrainTest, TwoRanksTrainWithOneGlobalBatch) {
  CommandResult r = RunCommand(Mpirun() + "-np 2 " + train_ + " --steps 30 --log-every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("data parallel: 2 ranks x 2 streams = 4 columns"));
  EXPECT_THAT(r.output, HasSubstr("rank 1 on "));
  EXPECT_THAT(r.output, HasSubstr("x 2 workers = 64 tokens per update"));
  EXPECT_THAT(r.output, HasSubstr("step     30/30"));
}

TEST_F(MpiTrainTest, DifferentCommandLinesFailFastNamingTheRank) {
  CommandResult r =
      RunCommand(Mpirun() + "-np 1 " + train_ + " --steps 30 : -np 1 " + train_ + " --steps 31");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("the model or the command line differs between rank 0 and "
                                  "rank 1 of 2"));
}

TEST_F(MpiTrainTest, AKilledRankEndsTheJobNamingItAndTheRunResumes) {
  // Rank 1 is killed with SIGKILL after two seconds; the job must end by
  // itself (mpirun notices the death, or the all-reduce times out), well
  // within the timeout, and say which rank died.
  const std::string ckpt = dir_ + "/ckpt";
  const std::string run = train_ + " --steps 100000 --log-every 1000 --allreduce-timeout 10 " +
                          "--checkpoint-every 20 --checkpoint-dir " + ckpt;
  CommandResult r = RunCommand(Mpirun() + "-np 1 " + run + " : -np 1 sh -c 'exec " + run +
                               " & pid=$!; sleep 2; kill -9 $pid; wait $pid'");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, 40) << r.output;
  EXPECT_THAT(r.output, HasSubstr(",1]")) << "the message names rank 1: " << r.output;
  // Resume: both ranks continue from the newest periodic checkpoint.
  const int64_t step = Newest(ckpt).step;
  ASSERT_GE(step, 20) << r.output;
  CommandResult resumed =
      RunCommand(Mpirun() + "-np 2 " + train_ + " --checkpoint-dir " + ckpt +
                 " --resume --no-validation --steps " + std::to_string(step + 10));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr(absl::StrCat("at step ", step, "\n")));
  EXPECT_EQ(Newest(ckpt).step, step + 10);
}

// A checkpoint holds all C = ranks x N columns: written by 2 ranks of 2
// streams it continues on 1 process of 4 streams, and the reverse, exactly
// as an uninterrupted single-process run of 4 streams (up to kTolerance).
TEST_F(MpiTrainTest, CheckpointsResumeAtAnotherRankCount) {
  const std::string common = train_ + " --no-validation --log-every 5";
  CommandResult ref =
      RunCommand("OMP_NUM_THREADS=1 " + common + " --streams-per-worker 4 --steps 20 " +
                 "--checkpoint-dir " + dir_ + "/ref --metrics " + dir_ + "/ref.jsonl");
  ASSERT_EQ(ref.status, 0) << ref.output;
  const std::vector<double> ref_losses = Losses(dir_ + "/ref.jsonl");
  ASSERT_EQ(ref_losses.size(), 20u);
  const rnnflow::CheckpointData ref_end = Newest(dir_ + "/ref");

  struct Leg {
    std::string first, second;  // launchers of steps 1-10 and 11-20
  };
  const std::string one = "OMP_NUM_THREADS=1 ", two = Mpirun() + "-np 2 ";
  for (const Leg& leg : {Leg{two, one}, Leg{one + "", two}}) {
    const std::string name = leg.first == two ? "two_then_one" : "one_then_two";
    const std::string flags = absl::StrCat(" --checkpoint-dir ", dir_, "/", name, " --metrics ",
                                           dir_, "/", name, ".jsonl");
    // Streams per worker: 4 alone, the model's 2 under 2 ranks; on resume
    // the checkpoint's 4 columns decide.
    CommandResult a = RunCommand(leg.first + common + flags + " --steps 10" +
                                 (leg.first == one ? " --streams-per-worker 4" : ""));
    ASSERT_EQ(a.status, 0) << name << a.output;
    CommandResult b = RunCommand(leg.second + common + flags + " --steps 20 --resume");
    ASSERT_EQ(b.status, 0) << name << b.output;
    EXPECT_THAT(b.output, HasSubstr("at step 10\n")) << b.output;
    EXPECT_THAT(b.output, HasSubstr(leg.second == two ? "2 ranks x 2 streams = 4 columns"
                                                      : "N=4 streams x 1 worker"))
        << b.output;
    const std::vector<double> losses = Losses(dir_ + "/" + name + ".jsonl");
    ASSERT_EQ(losses.size(), 20u) << name;
    for (size_t i = 0; i < losses.size(); ++i) {
      EXPECT_NEAR(losses[i], ref_losses[i], kTolerance * ref_losses[i])
          << name << " step " << i + 1;
    }
    const rnnflow::CheckpointData end = Newest(dir_ + "/" + name);
    EXPECT_EQ(end.step, 20);
    EXPECT_EQ(end.num_streams, 4);
    EXPECT_EQ(end.stream_position, ref_end.stream_position);
    ExpectSameTensors(end.params, ref_end.params, name.c_str());
    ExpectSameTensors(end.optimizer, ref_end.optimizer, name.c_str());
    ExpectSameTensors(end.carried, ref_end.carried, name.c_str());
  }
}

TEST_F(MpiTrainTest, ResumingOnARankCountThatDoesNotDivideTheColumnsIsAClearError) {
  const std::string flags = " --no-validation --checkpoint-dir " + dir_ + "/ckpt";
  ASSERT_EQ(RunCommand(Mpirun() + "-np 2 " + train_ + flags + " --steps 2").status, 0);
  CommandResult r = RunCommand(Mpirun() + "-np 3 " + train_ + flags + " --steps 4 --resume");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("ckpt-0000000002.rfck: written with 4 columns (ranks x streams "
                                  "per worker), which 3 ranks cannot share equally; resume with a "
                                  "number of ranks that divides 4"))
      << r.output;
  CommandResult n = RunCommand(Mpirun() + "-np 2 " + train_ + flags + " --steps 4 --resume " +
                               "--streams-per-worker 4");
  EXPECT_NE(n.status, 0);
  EXPECT_THAT(n.output, HasSubstr("written with 4 columns; with 2 ranks that is 2 streams per "
                                  "worker, not 4; leave TrainerOptions::streams"))
      << n.output;
}

// A stop signal that reaches only one rank stops both after the same step:
// no rank hangs in the next all-reduce, one checkpoint holds both ranks'
// columns, and the run continues from it.
TEST_F(MpiTrainTest, AStopSignalToOneRankStopsEveryRankAtTheSameStep) {
  const std::string ckpt = dir_ + "/ckpt";
  const std::string run = train_ + " --steps 100000 --log-every 1000 --no-validation " +
                          "--checkpoint-every 0 --checkpoint-dir " + ckpt;
  CommandResult r = RunCommand(Mpirun() + "-np 1 " + run + " : -np 1 sh -c 'exec " + run +
                               " & pid=$!; sleep 2; kill -TERM $pid; wait $pid'");
  EXPECT_LT(r.seconds, 40) << r.output;
  EXPECT_NE(r.status, 0) << r.output;  // the ranks exit with 143
  EXPECT_THAT(r.output, HasSubstr("; continue with TrainerOptions::resume")) << r.output;
  const rnnflow::CheckpointData c = Newest(ckpt);
  ASSERT_GT(c.step, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("stopped at step ", c.step, " of 100000")));
  EXPECT_EQ(c.num_streams, 4);
  CommandResult resumed =
      RunCommand(Mpirun() + "-np 2 " + train_ + " --checkpoint-dir " + ckpt +
                 " --resume --no-validation --steps " + std::to_string(c.step + 5));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr(absl::StrCat("at step ", c.step, "\n")));
}

// SIGUSR1 to mpirun (which forwards it to every rank) stops the job with a
// checkpoint; mpirun's own SIGINT / SIGTERM handling kills ranks too soon.
TEST_F(MpiTrainTest, SigusrOneToMpirunStopsEveryRankWithACheckpoint) {
  const std::string ckpt = dir_ + "/ckpt";
  CommandResult r =
      RunCommand("sh -c '" + Mpirun() + "-np 2 " + train_ +
                 " --steps 100000 --log-every 1000 --no-validation --checkpoint-every 0 " +
                 "--checkpoint-dir " + ckpt + " & pid=$!; sleep 2; kill -USR1 $pid; wait $pid'");
  EXPECT_LT(r.seconds, 40) << r.output;
  const rnnflow::CheckpointData c = Newest(ckpt);
  ASSERT_GT(c.step, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("stopped at step ", c.step,
                                               " of 100000; continue "
                                               "with TrainerOptions::resume")));
}

}  // namespace
