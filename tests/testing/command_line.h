// Running the `rnnflow` command from tests as a user runs it (its output, exit
// status and time), and the small inputs the command-line tests train on.
#ifndef RNNFLOW_TESTS_TESTING_COMMAND_LINE_H_
#define RNNFLOW_TESTS_TESTING_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace rnnflow {

// What a command did: its exit status (-1 when a signal ended it), stdout
// and stderr together, and its wall time.
struct CommandResult {
  int status = -1;
  std::string output;
  double seconds = 0;
};

// Runs `command` with /bin/sh and waits for it.
CommandResult RunCommand(const std::string& command);

// The `rnnflow` binary of this build.
std::string RnnflowBinary();

// `rnnflow ARGS` with OMP_NUM_THREADS=1.
CommandResult RunCli(const std::string& args);

// A new empty folder for the running test: TempDir()/PREFIX_TESTNAME.
std::string FreshTestDir(const std::string& prefix);

// Writes "the cat sat on the mat. " repeated to at least `bytes` bytes.
void WriteCatSatCorpus(const std::string& path, size_t bytes);

// The byte-level language model of the command-line tests (Embedding 8 ->
// LSTM 16 -> Dense 256 -> softmax cross-entropy over the next byte) named
// `name`, with `training` as its training block ("{ adam {} ... }").
std::string TinyByteLmModel(const std::string& name, const std::string& training);

// The rows of the forecasting tests' series, 50 + 20 sin(0.3 i) + 3 cos(1.7 i)
// for i < 300, as written with 4 decimals, and the CSV "t,v" of them.
std::vector<std::string> SineSeriesRows();
void WriteSineSeriesCsv(const std::string& path, const std::vector<std::string>& rows);

// The value of "name" in one --metrics line ({"step": 3, "loss": 2.5, ...}),
// as written; "" when the line has none.
std::string MetricsField(const std::string& line, const std::string& name);

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_COMMAND_LINE_H_
