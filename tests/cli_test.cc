// The `rnnflow` command as a user runs it: prepare, train with checkpoints,
// eval and generate, and their errors.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/base/version.h"
#include "tests/testing/command_line.h"

namespace {

using rnnflow::CommandResult;
using rnnflow::RunCli;
using testing::HasSubstr;
using testing::Not;

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = rnnflow::FreshTestDir("rnnflow_cli_test");
    rnnflow::WriteCatSatCorpus(dir_ + "/corpus.txt", 40000);
    std::ofstream(dir_ + "/model.pbtxt") << rnnflow::TinyByteLmModel(
        "tiny",
        "{ adam {} learning_rate { base: 0.01 } truncation_steps: 16 streams_per_worker: 4 }");
  }
  std::string dir_;
};

TEST_F(CliTest, PrepareTrainEvalGenerate) {
  CommandResult r =
      RunCli(absl::StrCat("prepare text ", dir_, "/corpus.txt --out ", dir_, "/prepared"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCli(absl::StrCat("train ", dir_, "/model.pbtxt --data ", dir_, "/prepared --steps 60 ",
                          "--log-every 20 --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("step     60/60"));
  r = RunCli(absl::StrCat("eval ", dir_, "/model.pbtxt --checkpoint ", dir_, "/run --data ", dir_,
                          "/prepared --split test"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("split 'test' at step 60"));
  r = RunCli(absl::StrCat("generate ", dir_, "/model.pbtxt --checkpoint ", dir_,
                          "/run --prime \"the \" --length 30 --temperature 0.5 --top-k 5"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.substr(0, 4), "the ");
  EXPECT_EQ(r.output.size(), 4u + 30u + 1u);
}

// A model with a `feed: RESETS` input over a corpus of several documents:
// `eval` resets the state at the split's document starts exactly as the
// trainer's validation does, so both report the same loss.
TEST_F(CliTest, EvalResetsAtDocumentStartsLikeValidation) {
  const std::string docs = dir_ + "/docs";
  std::system(("mkdir -p " + docs).c_str());
  for (int d = 0; d < 400; ++d) {  // short documents: many starts in each split
    std::string text;
    for (int w = 0; w < 3 + d % 7; ++w) absl::StrAppend(&text, d % 3 ? "abc " : "xyz ", w, " ");
    std::ofstream(absl::StrCat(docs, "/doc", 100 + d, ".txt")) << text << "\n";
  }
  std::string model;
  std::getline(std::ifstream(dir_ + "/model.pbtxt"), model, '\0');
  model = absl::StrReplaceAll(
      model, {{"feed: NEXT_TOKENS }",
               "feed: NEXT_TOKENS }\ninput { name: \"resets\" dtype: FLOAT32 dim: [\"T\", "
               "\"N\"] feed: RESETS }"},
              {"input: \"embed\"", "input: [\"embed\", \"\", \"\", \"\", \"resets\"]"}});
  std::ofstream(dir_ + "/docs.pbtxt") << model;
  CommandResult r = RunCli(absl::StrCat("prepare text ", docs, " --out ", dir_, "/prepared"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCli(absl::StrCat("train ", dir_, "/docs.pbtxt --data ", dir_, "/prepared --steps 40 ",
                          "--valid-every 40 --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  const size_t at = r.output.find("validation at step 40: loss ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string validation = r.output.substr(at + 28, 6);
  r = RunCli(absl::StrCat("eval ", dir_, "/docs.pbtxt --checkpoint ", dir_, "/run --data ", dir_,
                          "/prepared --split valid --max-chunks 20"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("loss ", validation, " nats/token"))) << validation;
}

// `predict` on a forecasting model: one row per line in original units, the
// forecast of the next row out; fed the series from its start it gives the
// same numbers as `eval --forecasts` (which warms up from the start too).
TEST_F(CliTest, PredictForecastsTheNextRowLikeEval) {
  const std::vector<std::string> rows = rnnflow::SineSeriesRows();
  rnnflow::WriteSineSeriesCsv(dir_ + "/series.csv", rows);
  const std::string model = std::string(RNNFLOW_SOURCE_DIR) + "/examples/forecast/model.pbtxt";
  CommandResult r = RunCli(
      absl::StrCat("prepare series ", dir_, "/series.csv --column v --out ", dir_, "/series"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCli(absl::StrCat("train ", model, " --data ", dir_,
                          "/series --steps 40 --truncation-steps 8",
                          " --streams-per-worker 4 --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCli(absl::StrCat("eval ", model, " --checkpoint ", dir_, "/run --data ", dir_,
                          "/series --split test --forecasts ", dir_, "/forecasts.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream forecasts(dir_ + "/forecasts.csv");
  std::string header, first;
  std::getline(forecasts, header);
  std::getline(forecasts, first);  // row,v_actual,v_forecast,v_persistence
  const std::vector<std::string> cells = absl::StrSplit(first, ',');
  ASSERT_EQ(cells.size(), 4u) << first;
  const int row = std::stoi(cells[0]);
  ASSERT_GT(row, 0);
  std::string lines;
  for (int i = 0; i < row; ++i) lines += rows[i] + "\n";
  std::ofstream(dir_ + "/history.csv") << lines;
  r = RunCli(absl::StrCat("predict ", model, " --checkpoint ", dir_, "/run --data ", dir_,
                          "/series --input ", dir_, "/history.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<std::string> out = absl::StrSplit(absl::StripSuffix(r.output, "\n"), '\n');
  ASSERT_EQ(out.size(), static_cast<size_t>(row));
  // The last line forecasts `row` from row - 1.
  EXPECT_NEAR(std::stod(out.back()), std::stod(cells[2]), 1e-3 * std::fabs(std::stod(cells[2])));

  std::ofstream(dir_ + "/bad.csv") << "51.2\n50.x\n";
  r = RunCli(absl::StrCat("predict ", model, " --checkpoint ", dir_, "/run --data ", dir_,
                          "/series --input ", dir_, "/bad.csv"));
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(dir_ + "/bad.csv:2:1: expected 1 comma-separated numbers (v"));
}

// The library's errors name its fields (TextPrepareOptions::valid_fraction,
// ...); the command adds the flag that sets each: the one the user typed,
// or the one that would.
TEST_F(CliTest, LibraryErrorsNameTheFlagsThatSetTheirFields) {
  const std::string prepare = absl::StrCat("prepare text ", dir_, "/corpus.txt --out ", dir_, "/p");
  CommandResult r = RunCli(prepare + " --valid 0.6 --test 0.5");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("rnnflow prepare text: TextPrepareOptions::valid_fraction (set by "
                        "--valid) and TextPrepareOptions::test_fraction (set by --test) "
                        "must be >= 0 with a sum below 1; got 0.6 and 0.5"));
  r = RunCli(prepare + " --test 0.99");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("TextPrepareOptions::valid_fraction (--valid sets it) and "
                                  "TextPrepareOptions::test_fraction (set by --test)"));
  r = RunCli(prepare + " --level char --min-count 0");
  EXPECT_THAT(r.output,
              HasSubstr("TextPrepareOptions::min_count (set by --min-count) must be >= 1; got 0"));
  // A flag's value the library cannot parse names the flag.
  r = RunCli(prepare + " --level word");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("rnnflow prepare text: --level: unknown text level 'word' "
                                  "(expected byte or char)"));
  std::ofstream(dir_ + "/s.csv") << "t,v\n1,2\n2,3\n";
  r = RunCli(absl::StrCat("prepare series ", dir_, "/s.csv --out ", dir_, "/s"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SeriesPrepareOptions::columns (--column sets it) is empty"));
  // --help shows which field each flag sets.
  r = RunCli("prepare text --help");
  EXPECT_THAT(r.output, HasSubstr("the library fields they set"));
  EXPECT_THAT(r.output, testing::ContainsRegex("--valid +TextPrepareOptions::valid_fraction"));

  ASSERT_EQ(RunCli(prepare).status, 0);
  r = RunCli(absl::StrCat("train ", dir_, "/model.pbtxt --data ", dir_,
                          "/p --steps 2 --checkpoint-dir ", dir_, "/run"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCli(
      absl::StrCat("generate ", dir_, "/model.pbtxt --checkpoint ", dir_, "/run --temperature 0"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("rnnflow generate: SampleOptions::temperature (set by "
                                  "--temperature) must be > 0; got 0"));
}

TEST_F(CliTest, ErrorsAreReportedNotCrashes) {
  CommandResult r = RunCli(absl::StrCat("eval ", dir_, "/model.pbtxt --checkpoint ", dir_,
                                        "/nothing --data ", dir_, "/corpus.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("rnnflow eval: "));
  r = RunCli("generate");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.output, HasSubstr("usage: rnnflow generate"));
  r = RunCli(absl::StrCat("train ", dir_, "/model.pbtxt --data ", dir_, "/corpus.txt --stepz 3"));
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown flag --stepz"));
  r = RunCli("frobnicate");
  EXPECT_EQ(r.status, 2);
  for (const char* verb :
       {"prepare", "train", "eval", "generate", "validate", "inspect", "ops", "check-reference"}) {
    r = RunCli(absl::StrCat(verb, " --help"));
    EXPECT_EQ(r.status, 0) << verb << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("usage: rnnflow")) << verb;
  }
}

// The line of `validate`'s or `inspect`'s training block that shows `field`,
// its spaces collapsed: "learning_rate.base 0.01"; "" when there is none.
std::string TrainingLine(const std::string& output, const std::string& field) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!words.empty() && words[0] == field && absl::StartsWith(line, "  ")) {
      return absl::StrJoin(words, " ");
    }
  }
  return "";
}

// `validate` prints the training block as a run takes it: the fields the
// model sets, the defaults of those it leaves unset, marked.
TEST_F(CliTest, ValidatePrintsTheTrainingBlockItParsed) {
  CommandResult r = RunCli(absl::StrCat("validate ", dir_, "/model.pbtxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\ntraining (the model's; rnnflow train's --steps, --lr,"));
  EXPECT_EQ(TrainingLine(r.output, "optimizer"), "optimizer adam");
  EXPECT_EQ(TrainingLine(r.output, "adam.beta1"), "adam.beta1 0.9 (default)");
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.base"), "learning_rate.base 0.01");
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.schedule"),
            "learning_rate.schedule constant (base at every step; default)");
  EXPECT_EQ(TrainingLine(r.output, "truncation_steps"), "truncation_steps 16 (T: steps per chunk)");
  EXPECT_EQ(TrainingLine(r.output, "streams_per_worker"),
            "streams_per_worker 4 (N: streams per worker)");
  EXPECT_EQ(TrainingLine(r.output, "steps"),
            "steps 100 (optimizer steps in all; a resumed run continues to it; default)");
  EXPECT_EQ(TrainingLine(r.output, "window"),
            "window 0 (stateful: the state is carried from chunk to chunk)");
  EXPECT_THAT(r.output, HasSubstr("model.pbtxt: OK"));

  std::ofstream(dir_ + "/sgd.pbtxt") << rnnflow::TinyByteLmModel(
      "sgd",
      "{ sgd { momentum: 0.9 nesterov: true } learning_rate { base: 0.2 schedule: \"step\" "
      "decay_steps: 50 rate: 0.5 } clip_global_norm: 1 weight_decay: 0.001 steps: 20 seed: 9 }");
  r = RunCli(absl::StrCat("validate ", dir_, "/sgd.pbtxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(TrainingLine(r.output, "optimizer"), "optimizer sgd");
  EXPECT_EQ(TrainingLine(r.output, "adam.beta1"), "");
  EXPECT_EQ(TrainingLine(r.output, "sgd.momentum"), "sgd.momentum 0.9");
  EXPECT_EQ(TrainingLine(r.output, "sgd.nesterov"), "sgd.nesterov true");
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.schedule"),
            "learning_rate.schedule step (base x rate every decay_steps steps after warmup)");
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.decay_steps"), "learning_rate.decay_steps 50");
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.rate"), "learning_rate.rate 0.5");
  EXPECT_EQ(TrainingLine(r.output, "clip_global_norm"),
            "clip_global_norm 1 (gradients scaled down to this global L2 norm when above it)");
  EXPECT_EQ(TrainingLine(r.output, "weight_decay"),
            "weight_decay 0.001 (decoupled: p -= learning rate x weight_decay x p)");
  EXPECT_EQ(TrainingLine(r.output, "truncation_steps"),
            "truncation_steps 32 (T: steps per chunk; default)");
  EXPECT_EQ(TrainingLine(r.output, "seed"),
            "seed 9 (initial parameters, data order, dropout masks)");
}

// What the optimizer would refuse when training starts, `validate` reports
// already, at the training block.
TEST_F(CliTest, ValidateRejectsATrainingBlockTheOptimizerWouldRefuse) {
  const std::string model = rnnflow::TinyByteLmModel("bad", "{ sgd { momentum: 1.5 } }");
  const int line = static_cast<int>(
      std::count(model.begin(), model.begin() + model.find("\ntraining "), '\n') + 2);
  std::ofstream(dir_ + "/bad.pbtxt") << model;
  CommandResult r = RunCli(absl::StrCat("validate ", dir_, "/bad.pbtxt"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("bad.pbtxt:", line,
                                               ":1: training.sgd.momentum: must be in [0, 1); "
                                               "got 1.5")));
  EXPECT_THAT(r.output, Not(HasSubstr("OK")));
  std::ofstream(dir_ + "/bad.pbtxt")
      << rnnflow::TinyByteLmModel("bad", "{ learning_rate { schedule: \"step\" rate: 0.5 } }");
  r = RunCli(absl::StrCat("validate ", dir_, "/bad.pbtxt"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("training.learning_rate.decay_steps: must be > 0 for schedule "
                                  "'step'; got 0"));
}

TEST_F(CliTest, InspectPrintsTheTrainingBlock) {
  CommandResult r = RunCli(absl::StrCat("inspect ", dir_, "/model.pbtxt --T 8"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("model 'tiny' for T=8, N=4"));
  EXPECT_EQ(TrainingLine(r.output, "learning_rate.base"), "learning_rate.base 0.01");
  EXPECT_EQ(TrainingLine(r.output, "truncation_steps"), "truncation_steps 16 (T: steps per chunk)");
}

// `rnnflow --version` prints the library's VersionReport (base/version.h).
TEST(CliVersionTest, PrintsTheVersionReport) {
  const CommandResult r = RunCli("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, rnnflow::VersionReport());
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("rnnflow ", rnnflow::Version(), " (commit ")));
}

// `ops --markdown` (docs/ops.md): each op's attributes with type, default and
// allowed values, its outputs with how a model references them, its carried
// states; only the ops named.
TEST(CliOpsTest, MarkdownReference) {
  CommandResult r = RunCli("ops --markdown LSTM");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\n## LSTM\n"));
  EXPECT_THAT(r.output, Not(HasSubstr("## GRU")));
  EXPECT_THAT(r.output, HasSubstr("| `hidden` | int | required |  | Hidden width H (> 0). |"));
  EXPECT_THAT(r.output, HasSubstr("| `direction` | string | `\"forward\"` | `\"forward\"`, "
                                  "`\"bidirectional\"` |"));
  EXPECT_THAT(r.output, HasSubstr("| 3 `lengths` | optional, no gradient |"));
  EXPECT_THAT(r.output, HasSubstr("| 2 `c_n` | `NODE:2` |"));
  EXPECT_THAT(r.output, HasSubstr("Carried state: when input `c0` is not connected, output `c_n`"));
  // Prose is escaped where Markdown would read emphasis: "c_t = f*c_{t-1}".
  EXPECT_THAT(r.output, HasSubstr("c_t = f\\*c\\_{t-1}"));
  r = RunCli("ops --markdown Lstm");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("unknown op 'Lstm'"));
}

}  // namespace
