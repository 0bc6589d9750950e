#include "tests/testing/command_line.h"

#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace rnnflow {

CommandResult RunCommand(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  CommandResult result;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    result.output = "popen failed: " + command;
    return result;
  }
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) result.output.append(buf, n);
  const int status = pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string RnnflowBinary() { return RNNFLOW_BINARY_DIR "/rnnflow"; }

CommandResult RunCli(const std::string& args) {
  return RunCommand(absl::StrCat("OMP_NUM_THREADS=1 ", RnnflowBinary(), " ", args));
}

std::string FreshTestDir(const std::string& prefix) {
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/", prefix, "_",
                   testing::UnitTest::GetInstance()->current_test_info()->name());
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir, error);
  EXPECT_FALSE(error) << dir << ": " << error.message();
  return dir;
}

void WriteCatSatCorpus(const std::string& path, size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += "the cat sat on the mat. ";
  std::ofstream(path) << text;
}

std::string TinyByteLmModel(const std::string& name, const std::string& training) {
  return absl::StrCat("format_version: 1\nname: \"", name, "\"\n", R"(
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 16 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training )",
                      training, "\n");
}

std::vector<std::string> SineSeriesRows() {
  std::vector<std::string> rows;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(absl::StrFormat("%.4f", 50 + 20 * std::sin(i * 0.3) + 3 * std::cos(i * 1.7)));
  }
  return rows;
}

void WriteSineSeriesCsv(const std::string& path, const std::vector<std::string>& rows) {
  std::string csv = "t,v\n";
  for (size_t i = 0; i < rows.size(); ++i) absl::StrAppend(&csv, i, ",", rows[i], "\n");
  std::ofstream(path) << csv;
}

std::string MetricsField(const std::string& line, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\": ");
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = line.find_first_of(",}", begin);
  return end == std::string::npos ? "" : line.substr(begin, end - begin);
}

}  // namespace rnnflow
