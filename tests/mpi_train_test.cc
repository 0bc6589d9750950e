// `rnnflow train` under a real `mpirun -np 2`: data-parallel start-up, the
// fail-fast configuration check, and a rank killed mid-run.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using testing::HasSubstr;

struct Result {
  int status;
  std::string output;
  double seconds;
};

Result Shell(const std::string& cmd) {
  const auto start = std::chrono::steady_clock::now();
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, seconds};
}

std::string Mpirun() {
  return absl::StrCat("OMP_NUM_THREADS=1 mpirun --oversubscribe ",
                      geteuid() == 0 ? "--allow-run-as-root " : "");
}

class MpiTrainTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/rnnflow_mpi_train_test_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    std::string text;
    while (text.size() < 60000) text += "the cat sat on the mat. ";
    std::ofstream(dir_ + "/corpus.txt") << text;
    std::ofstream(dir_ + "/model.pbtxt") << R"(
format_version: 1
name: "tiny"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 16 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } truncation_steps: 16 streams_per_worker: 2 }
)";
    train_ = absl::StrCat(RNNFLOW_BINARY_DIR "/rnnflow train ", dir_, "/model.pbtxt --data ",
                          dir_, "/corpus.txt");
  }
  std::string dir_, train_;
};

TEST_F(MpiTrainTest, TwoRanksTrainWithOneGlobalBatch) {
  Result r = Shell(Mpirun() + "-np 2 " + train_ + " --steps 30 --log-every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("data parallel: 2 ranks x 2 streams = 4 columns"));
  EXPECT_THAT(r.output, HasSubstr("rank 1 on "));
  EXPECT_THAT(r.output, HasSubstr("x 2 workers = 64 tokens per update"));
  EXPECT_THAT(r.output, HasSubstr("step     30/30"));
}

TEST_F(MpiTrainTest, DifferentCommandLinesFailFastNamingTheRank) {
  Result r = Shell(Mpirun() + "-np 1 " + train_ + " --steps 30 : -np 1 " + train_ +
                   " --steps 31");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("the model or the command line differs between rank 0 and "
                                  "rank 1 of 2"));
}

TEST_F(MpiTrainTest, AKilledRankEndsTheJobNamingIt) {
  // Rank 1 is killed with SIGKILL after two seconds; the job must end by
  // itself (mpirun notices the death, or the all-reduce times out), well
  // within the timeout, and say which rank died.
  const std::string run = train_ + " --steps 100000 --log-every 1000 --allreduce-timeout 10";
  Result r = Shell(Mpirun() + "-np 1 " + run + " : -np 1 sh -c 'exec " + run +
                   " & pid=$!; sleep 2; kill -9 $pid; wait $pid'");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, 40) << r.output;
  EXPECT_THAT(r.output, HasSubstr(",1]")) << "the message names rank 1: " << r.output;
}

}  // namespace
