// Exact resume through the real command line: `rnnflow train` processes are
// killed with SIGKILL at random moments and resumed, or stopped with SIGINT,
// and their per-step losses (from --metrics) must equal those of a run that
// was never interrupted, bit for bit.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/runtime/checkpoint.h"
#include "tests/testing/command_line.h"

extern char** environ;

namespace rnnflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kSteps = 300;

// The training block of the command-line tests' byte-level LM
// (TinyByteLmModel): a schedule, clipping and a seed.
constexpr char kTraining[] = R"({
  adam {}
  learning_rate { base: 0.01 schedule: "cosine" warmup_steps: 10 }
  clip_global_norm: 5
  truncation_steps: 8
  streams_per_worker: 4
  seed: 5
})";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One metrics line: {"step": S, "loss": L, ...}; the loss is kept as text
// (printed with %.9g, so equal text means equal floats).
struct Metrics {
  std::multimap<int64_t, std::string> loss;  // every line, in file order per step
  std::map<int64_t, std::string> valid_loss;
  int unparsed = 0;
};

Metrics ReadMetrics(const std::string& path) {
  Metrics m;
  std::istringstream in(ReadAll(path));
  std::string line;
  while (std::getline(in, line)) {
    int64_t step = 0;
    if (line.empty() || line.front() != '{' || line.back() != '}' ||
        !absl::SimpleAtoi(MetricsField(line, "step"), &step)) {
      ++m.unparsed;
      continue;
    }
    if (std::string l = MetricsField(line, "loss"); !l.empty()) m.loss.emplace(step, l);
    if (std::string v = MetricsField(line, "valid_loss"); !v.empty()) m.valid_loss[step] = v;
  }
  return m;
}

class ResumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = absl::StrCat(::testing::TempDir(), "/rnnflow_resume_", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_ = dir_ + "/model.pbtxt";
    std::ofstream(model_) << TinyByteLmModel("resume_lm", kTraining);
    corpus_ = dir_ + "/corpus.txt";
    std::string text;
    uint32_t x = 2024;
    const std::string words[] = {"alpha ", "beta ", "gamma ", "delta\n", "abacabad "};
    while (text.size() < 30000) {
      x = x * 1664525u + 1013904223u;
      text += words[(x >> 24) % 5];
    }
    std::ofstream(corpus_) << text;
  }

  // Common flags of every run; `name` selects the checkpoint dir and files.
  static std::vector<std::string> Args(const std::string& name) {
    return {RnnflowBinary(),
            "train",
            model_,
            "--data",
            corpus_,
            "--steps",
            std::to_string(kSteps),
            "--threads",
            "1",
            "--log-every",
            "1000000",
            "--checkpoint-dir",
            dir_ + "/" + name + "_ckpt",
            "--checkpoint-every",
            "5",
            "--keep-checkpoints",
            "3",
            "--metrics",
            dir_ + "/" + name + ".jsonl"};
  }

  // fork + exec with OMP_NUM_THREADS=1; output goes to dir_/name.log.
  static pid_t Spawn(std::vector<std::string> args, const std::string& name) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {"OMP_NUM_THREADS=1"};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("OMP_NUM_THREADS=", 0) != 0) env_strings.push_back(*e);
    }
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string log = dir_ + "/" + name + ".log";
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    return pid;
  }

  // waitpid with a deadline; kills the child (and fails) when it hangs.
  static int Wait(pid_t pid, double seconds = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << "rnnflow train did not finish in " << seconds << " s";
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status;
  }

  static int64_t NewestCheckpointStep(const std::string& ckpt_dir) {
    auto files = ListCheckpoints(ckpt_dir);
    if (!files.ok() || files->empty()) return -1;
    const std::string name = fs::path(files->back()).filename().string();
    int64_t step = -1;
    (void)absl::SimpleAtoi(name.substr(5, name.size() - 10), &step);
    return step;
  }

  // The uninterrupted run's losses, computed once.
  static const Metrics& Baseline() {
    static const Metrics* baseline = [] {
      const pid_t pid = Spawn(Args("baseline"), "baseline");
      const int status = Wait(pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(dir_ + "/baseline.log");
      return new Metrics(ReadMetrics(dir_ + "/baseline.jsonl"));
    }();
    return *baseline;
  }

  // Every loss line of `got` equals the baseline's for that step, and every
  // step 1..kSteps is present.
  static void ExpectSameLosses(const Metrics& got, const std::string& what) {
    const Metrics& want = Baseline();
    ASSERT_EQ(want.loss.size(), static_cast<size_t>(kSteps));
    for (int64_t s = 1; s <= kSteps; ++s) {
      EXPECT_GT(got.loss.count(s), 0u) << what << ": step " << s << " is missing";
    }
    int mismatches = 0;
    for (const auto& [step, loss] : got.loss) {
      auto it = want.loss.find(step);
      ASSERT_NE(it, want.loss.end()) << what << ": unexpected step " << step;
      if (loss != it->second && ++mismatches <= 5) {
        ADD_FAILURE() << what << ": step " << step << " loss " << loss << ", uninterrupted run "
                      << it->second;
      }
    }
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(got.valid_loss, want.valid_loss) << what << ": final validation differs";
  }

  static std::string dir_, model_, corpus_;
};

std::string ResumeTest::dir_, ResumeTest::model_, ResumeTest::corpus_;

TEST_F(ResumeTest, KillNineAtRandomMomentsThenResumeGivesTheSameLosses) {
  const Metrics& baseline = Baseline();
  ASSERT_EQ(baseline.loss.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(baseline.unparsed, 0);

  const std::string name = "killed";
  const std::string ckpt_dir = dir_ + "/" + name + "_ckpt";
  std::vector<std::string> args = Args(name);
  args.push_back("--resume");  // the first start finds no checkpoint: step 0
  const unsigned seed = std::random_device()();
  std::mt19937 rng(seed);
  SCOPED_TRACE(absl::StrCat("random seed ", seed));

  int kills = 0;
  std::vector<int64_t> killed_after;
  for (int round = 0; round < 3; ++round) {
    const int64_t before = NewestCheckpointStep(ckpt_dir);
    const pid_t pid = Spawn(args, name);
    // Wait for a checkpoint newer than the one this process resumes from,
    // then kill it at a random moment during the next steps.
    int status = 0;
    bool exited = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (NewestCheckpointStep(ckpt_dir) <= before) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no checkpoint appeared";
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (exited) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(dir_ + "/killed.log");
      break;  // it finished before it could be killed
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(rng)));
    kill(pid, SIGKILL);
    status = Wait(pid);
    if (WIFSIGNALED(status)) {
      ASSERT_EQ(WTERMSIG(status), SIGKILL);
      ++kills;
      killed_after.push_back(NewestCheckpointStep(ckpt_dir));
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(dir_ + "/killed.log");
      break;
    }
  }
  ASSERT_GE(kills, 1) << "the run finished before it could be killed; make it longer";
  RecordProperty("kills", kills);
  std::cout << "killed " << kills
            << " times; newest checkpoints then: " << absl::StrJoin(killed_after, ", ")
            << " (random seed " << seed << ")\n";

  const int status = Wait(Spawn(args, name));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(dir_ + "/killed.log");
  const std::string log = ReadAll(dir_ + "/killed.log");
  EXPECT_THAT(log, HasSubstr("no checkpoint in"));
  EXPECT_THAT(log, HasSubstr("resumed from " + ckpt_dir + "/ckpt-"));

  const Metrics got = ReadMetrics(dir_ + "/" + name + ".jsonl");
  ExpectSameLosses(got, "killed and resumed");
  // Steps after the last checkpoint of a killed process were run again.
  EXPECT_GE(got.loss.size(), static_cast<size_t>(kSteps));
  // No more than one cut-off line per kill.
  EXPECT_LE(got.unparsed, kills);

  // Keep-last-3, no temporary file left behind, final step saved.
  auto files = ListCheckpoints(ckpt_dir);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 3u);
  EXPECT_EQ(NewestCheckpointStep(ckpt_dir), kSteps);
  for (const auto& entry : fs::directory_iterator(ckpt_dir)) {
    EXPECT_EQ(entry.path().extension(), ".rfck") << entry.path();
  }
}

TEST_F(ResumeTest, SigintSavesACheckpointAndExits130ThenResumesExactly) {
  // On a loaded machine the run may finish before the signal lands; then it
  // is tried again under another name.
  std::string name, ckpt_dir, metrics;
  std::vector<std::string> args;
  int64_t last_step = -1;
  for (int attempt = 0; attempt < 3 && last_step < 0; ++attempt) {
    name = absl::StrCat("sigint", attempt);
    ckpt_dir = dir_ + "/" + name + "_ckpt";
    metrics = dir_ + "/" + name + ".jsonl";
    args = Args(name);
    args.push_back("--checkpoint-every=0");  // only the one SIGINT writes (and the final)
    const pid_t pid = Spawn(args, name);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ReadMetrics(metrics).loss.size() < 20) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "exited before SIGINT";
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    kill(pid, SIGINT);
    const int status = Wait(pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n"
                                   << ReadAll(dir_ + "/" + name + ".log");
    if (WEXITSTATUS(status) == 0 &&
        ReadMetrics(metrics).loss.size() == static_cast<size_t>(kSteps)) {
      continue;
    }
    ASSERT_EQ(WEXITSTATUS(status), 130) << ReadAll(dir_ + "/" + name + ".log");
    last_step = ReadMetrics(metrics).loss.rbegin()->first;
  }
  ASSERT_GT(last_step, 0) << "every run finished before SIGINT arrived";
  ASSERT_LT(last_step, kSteps);
  EXPECT_EQ(NewestCheckpointStep(ckpt_dir), last_step);
  EXPECT_THAT(ReadAll(dir_ + "/" + name + ".log"),
              HasSubstr(absl::StrCat("stopped at step ", last_step, " of ", kSteps,
                                     "; continue with TrainerOptions::resume")));

  args.push_back("--resume");
  const int resumed = Wait(Spawn(args, name));
  ASSERT_TRUE(WIFEXITED(resumed) && WEXITSTATUS(resumed) == 0)
      << ReadAll(dir_ + "/" + name + ".log");
  const Metrics got = ReadMetrics(metrics);
  EXPECT_EQ(got.unparsed, 0);
  EXPECT_EQ(got.loss.size(), static_cast<size_t>(kSteps)) << "no step was run twice";
  ExpectSameLosses(got, "stopped with SIGINT and resumed");
}

TEST_F(ResumeTest, SigtermAlsoSavesAndExits143) {
  const std::string name = "sigterm";
  std::vector<std::string> args = Args(name);
  args.insert(args.end(), {"--steps", "100000000"});  // still running when SIGTERM lands
  const pid_t pid = Spawn(args, name);
  const std::string metrics = dir_ + "/" + name + ".jsonl";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ReadMetrics(metrics).loss.size() < 3) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "exited before SIGTERM";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  kill(pid, SIGTERM);
  const int status = Wait(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n"
                                 << ReadAll(dir_ + "/" + name + ".log");
  EXPECT_EQ(WEXITSTATUS(status), 143);
  EXPECT_EQ(NewestCheckpointStep(dir_ + "/" + name + "_ckpt"),
            ReadMetrics(metrics).loss.rbegin()->first);
}

TEST_F(ResumeTest, ResumeWithoutCheckpointDirIsAUsageError) {
  const int status =
      Wait(Spawn({RnnflowBinary(), "train", model_, "--data", corpus_, "--resume"}, "usage"));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(ReadAll(dir_ + "/usage.log"), HasSubstr("--resume needs --checkpoint-dir"));
}

TEST_F(ResumeTest, CorruptCheckpointIsReportedByTheCli) {
  const std::string ckpt_dir = dir_ + "/corrupt_ckpt";
  fs::create_directories(ckpt_dir);
  // The magic and version 1 of a file cut off inside its header.
  std::ofstream(ckpt_dir + "/ckpt-0000000005.rfck").write("RNNFCKPT\x01\x00\x00\x00", 12);
  std::vector<std::string> args = Args("corrupt");
  args.push_back("--resume");
  const int status = Wait(Spawn(args, "corrupt"));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string log = ReadAll(dir_ + "/corrupt.log");
  EXPECT_THAT(log, HasSubstr(ckpt_dir + "/ckpt-0000000005.rfck"));
  EXPECT_THAT(log, HasSubstr("truncated"));
}

}  // namespace
}  // namespace rnnflow
