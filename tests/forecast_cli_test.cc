// `rnnflow train / eval / predict` on forecasting models in windowed mode
// and with multi-step horizons, as a user runs them, and their bad flags.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/command_line.h"

namespace {

using rnnflow::CommandResult;
using rnnflow::RunCli;
using testing::HasSubstr;

class ForecastCliTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = rnnflow::FreshTestDir("rnnflow_forecast_cli");
    rows_ = rnnflow::SineSeriesRows();
    rnnflow::WriteSineSeriesCsv(dir_ + "/series.csv", rows_);
    model_ = std::string(RNNFLOW_SOURCE_DIR) + "/examples/forecast/model.pbtxt";
    data_ = dir_ + "/series";
    CommandResult r =
        RunCli(absl::StrCat("prepare series ", dir_, "/series.csv --column v --out ", data_));
    ASSERT_EQ(r.status, 0) << r.output;
  }

  // Writes rows [from, to) one per line and returns the file's path.
  std::string History(int from, int to) const {
    std::string lines;
    for (int i = from; i < to; ++i) lines += rows_[i] + "\n";
    const std::string path = absl::StrCat(dir_, "/history_", from, "_", to, ".csv");
    std::ofstream(path) << lines;
    return path;
  }

  std::string dir_, model_, data_;
  std::vector<std::string> rows_;
};

TEST_F(ForecastCliTest, WindowedEvalAndPredictAgreeOnMultiStepForecasts) {
  CommandResult r =
      RunCli(absl::StrCat("train ", model_, " --data ", data_,
                          " --window 10 --steps 40 --streams-per-worker 4 --threads 1",
                          " --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("N=4 windows of W=10 rows"));
  r = RunCli(absl::StrCat("eval ", model_, " --checkpoint ", dir_, "/run --data ", data_,
                          " --split test --window 10 --horizon 3 --season 21 --forecasts ", dir_,
                          "/forecasts.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("h=3 ("));
  EXPECT_THAT(r.output, HasSubstr("each from a zero state over the last 10 rows"));
  std::ifstream forecasts(dir_ + "/forecasts.csv");
  std::string header;
  std::getline(forecasts, header);
  EXPECT_EQ(header, "origin,h,row,v_actual,v_forecast,v_persistence,v_seasonal");
  std::vector<std::vector<std::string>> first(3);  // the first origin's h = 1..3
  for (auto& line : first) {
    std::string text;
    ASSERT_TRUE(std::getline(forecasts, text));
    line = absl::StrSplit(text, ',');
    ASSERT_EQ(line.size(), 7u) << text;
  }
  const int origin = std::stoi(first[0][0]);
  ASSERT_GE(origin, 9);
  // predict --horizon 3 from the rows up to the origin: the same three rows,
  // whether it is given the whole history or only the last W = 10 rows.
  for (int from : {0, origin - 9}) {
    r = RunCli(absl::StrCat("predict ", model_, " --checkpoint ", dir_, "/run --data ", data_,
                            " --window 10 --horizon 3 --input ", History(from, origin + 1)));
    ASSERT_EQ(r.status, 0) << r.output;
    const std::vector<std::string> out = absl::StrSplit(absl::StripSuffix(r.output, "\n"), '\n');
    ASSERT_EQ(out.size(), 3u) << r.output;
    for (int h = 0; h < 3; ++h) {
      EXPECT_EQ(std::stoi(first[h][1]), h + 1);
      const double expected = std::stod(first[h][4]);
      EXPECT_NEAR(std::stod(out[h]), expected, 1e-4 * std::fabs(expected))
          << "h=" << h + 1 << " from row " << from;
    }
  }
  // Without --window, eval takes the checkpoint's mode; --window 0 runs the
  // same checkpoint stateful, with a note.
  r = RunCli(absl::StrCat("eval ", model_, " --checkpoint ", dir_, "/run --data ", data_,
                          " --split test"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("each from a zero state over the last 10 rows"));
  r = RunCli(absl::StrCat("eval ", model_, " --checkpoint ", dir_, "/run --data ", data_,
                          " --split test --window 0 --horizon 3"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("note: the checkpoint was trained on windows of 10 rows"));
  EXPECT_THAT(r.output, HasSubstr("state carried through the series"));
  // Resuming it in the other mode is refused, naming the mode.
  r = RunCli(absl::StrCat("train ", model_, " --data ", data_, " --steps 50 --checkpoint-dir ",
                          dir_, "/run --resume"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("written by windowed training (W = 10); this run is stateful"));
}

TEST_F(ForecastCliTest, BadWindowsAndHorizonsAreClearErrors) {
  CommandResult r =
      RunCli(absl::StrCat("train ", model_, " --data ", data_, " --window -1 --steps 1"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--window must be >= 1 rows"));
  r = RunCli(absl::StrCat("train ", model_, " --data ", data_, " --window 500 --steps 1"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("a window of 500 rows does not fit the train split's"));
  r = RunCli(absl::StrCat("train ", model_, " --data ", data_,
                          " --window 12 --truncation-steps 8 --steps 1"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("conflicts with a window of 12 rows"));

  r = RunCli(absl::StrCat("train ", model_, " --data ", data_,
                          " --steps 2 --truncation-steps 8 --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string eval =
      absl::StrCat("eval ", model_, " --checkpoint ", dir_, "/run --data ", data_, " --split test");
  r = RunCli(eval + " --horizon 0");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--horizon must be >= 1 rows"));
  r = RunCli(eval + " --window -3");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--window must be >= 1 rows"));
  r = RunCli(eval + " --window 400");  // windows may reach back before the split, not 400 rows
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("has no row to forecast from windows of 400 rows"));
  const std::string predict =
      absl::StrCat("predict ", model_, " --checkpoint ", dir_, "/run --data ", data_);
  r = RunCli(predict + " --horizon 0 --input " + History(0, 5));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--horizon H >= 1"));
  std::ofstream(dir_ + "/empty.csv") << "";
  r = RunCli(predict + " --horizon 2 --input " + dir_ + "/empty.csv");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no rows given to forecast from"));
}

}  // namespace
