// The command-line parser that the rnnflow command and the example programs
// share (tools/flags.h): every flag form, its errors, usage text, verbs.
#include "tools/flags.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

const std::vector<FlagSpec> kSpecs = {
    {"out", "DIR", "output directory"},
    {"steps", "N", "optimizer steps"},
    {"lr", "X", "learning rate"},
    {"resume", "", "continue from the newest checkpoint"},
};

TEST(FlagsTest, ReadsEveryForm) {
  auto flags = ParseFlags(
      {"model.pbtxt", "--out", "d", "--steps=12", "--resume", "more", "--lr", "0.5"}, kSpecs);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->positional, (std::vector<std::string>{"model.pbtxt", "more"}));
  EXPECT_EQ(flags->Get("out"), "d");
  EXPECT_EQ(*flags->GetInt("steps", 0), 12);
  EXPECT_DOUBLE_EQ(*flags->GetDouble("lr", 0), 0.5);
  EXPECT_TRUE(flags->Has("resume"));
  EXPECT_FALSE(flags->help);
  // Flags not given read their fallback.
  auto none = ParseFlags({}, kSpecs);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->Has("out"));
  EXPECT_EQ(none->Get("out", "here"), "here");
  EXPECT_EQ(*none->GetInt("steps", 7), 7);
  EXPECT_TRUE(ParseFlags({"-h"}, kSpecs)->help);
  EXPECT_TRUE(ParseFlags({"--help"}, kSpecs)->help);
}

TEST(FlagsTest, MistakesAreErrorsNamingTheFlag) {
  auto unknown = ParseFlags({"--stepz", "3"}, kSpecs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown flag --stepz"));
  auto no_value = ParseFlags({"--out"}, kSpecs);
  ASSERT_FALSE(no_value.ok());
  EXPECT_THAT(no_value.status().message(), HasSubstr("--out needs a value (DIR)"));
  auto flags = ParseFlags({"--steps", "many", "--lr", "fast"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_THAT(flags->GetInt("steps", 0).status().message(),
              HasSubstr("--steps expects an integer; got 'many'"));
  EXPECT_THAT(flags->GetDouble("lr", 0).status().message(),
              HasSubstr("--lr expects a number; got 'fast'"));
}

TEST(FlagsTest, CommandLineChecksPositionalsAndRequiredFlags) {
  const std::string usage = Usage("prog verb", "MODEL --out DIR", "Does a thing.", kSpecs);
  EXPECT_THAT(usage, HasSubstr("usage: prog verb MODEL --out DIR\n\nDoes a thing.\n"));
  EXPECT_THAT(usage, HasSubstr("  --out DIR "));
  EXPECT_THAT(usage, HasSubstr("  --resume "));
  ParsedFlags flags;
  EXPECT_EQ(ParseCommandLine("prog verb", {"m"}, kSpecs, usage, 1, {"out"}, &flags), 2);
  EXPECT_EQ(ParseCommandLine("prog verb", {"--out", "d"}, kSpecs, usage, 1, {"out"}, &flags), 2);
  EXPECT_EQ(ParseCommandLine("prog verb", {"--help"}, kSpecs, usage, 1, {"out"}, &flags), 0);
  EXPECT_EQ(ParseCommandLine("prog verb", {"m", "--out", "d"}, kSpecs, usage, 1, {"out"}, &flags),
            std::nullopt);
  EXPECT_EQ(flags.command, "prog verb");
  EXPECT_EQ(flags.positional, std::vector<std::string>{"m"});
  EXPECT_EQ(flags.specs.size(), kSpecs.size());
  EXPECT_EQ(
      ParseCommandLine("prog verb", {"a", "b", "c"}, kSpecs, usage, kAnyPositional, {}, &flags),
      std::nullopt);
}

// The flags of a command that set library fields.
const std::vector<FlagSpec> kFieldSpecs = {
    {"valid", "F", "validation fraction", "PrepOptions::valid_fraction"},
    {"test", "F", "test fraction", "PrepOptions::test_fraction"},
    {"window", "W", "rows per window", "TrainerOptions::window"},
    {"out", "DIR", "output directory"},
};

TEST(FlagsTest, LibraryErrorsGetTheFlagThatSetsEachField) {
  ParsedFlags flags;
  ASSERT_EQ(ParseCommandLine("prog", {"--valid", "0.7"}, kFieldSpecs, "", 0, {}, &flags),
            std::nullopt);
  EXPECT_EQ(
      NameFlags("PrepOptions::valid_fraction and PrepOptions::test_fraction must be small", flags),
      "PrepOptions::valid_fraction (set by --valid) and PrepOptions::test_fraction (--test "
      "sets it) must be small");
  // Only the first mention, and only whole names.
  EXPECT_EQ(NameFlags("PrepOptions::valid_fraction_max, PrepOptions::valid_fraction, "
                      "PrepOptions::valid_fraction",
                      flags),
            "PrepOptions::valid_fraction_max, PrepOptions::valid_fraction (set by --valid), "
            "PrepOptions::valid_fraction");
  EXPECT_EQ(NameFlags("TrainerOptions::windows are rows", flags),
            "TrainerOptions::windows are rows");
  EXPECT_EQ(NameFlags("no field here", flags), "no field here");

  const std::string usage = Usage("prog", "", "S.", kFieldSpecs);
  EXPECT_THAT(usage, HasSubstr("the library fields they set"));
  EXPECT_THAT(usage, testing::ContainsRegex("--window +TrainerOptions::window\n"));
  EXPECT_THAT(usage.substr(usage.find("the library fields")), testing::Not(HasSubstr("--out")));
  EXPECT_THAT(Usage("prog", "", "S.", kSpecs), testing::Not(HasSubstr("library fields")));
}

absl::StatusOr<int> ParseSize(const std::string& text) {
  if (text == "big") return 10;
  return absl::InvalidArgumentError(absl::StrCat("unknown size '", text, "'"));
}

TEST(FlagsTest, ParsedValuesNameTheFlagInErrors) {
  auto flags = ParseFlags({"--out", "huge"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags->GetParsed("steps", "big", ParseSize), 10);  // the fallback, parsed
  auto bad = flags->GetParsed("out", "big", ParseSize);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--out: unknown size 'huge'");
}

int g_ran = 0;
int RunA(const std::vector<std::string>& args) {
  g_ran = static_cast<int>(args.size());
  return 7;
}

TEST(FlagsTest, VerbsRunWithTheArgumentsAfterThem) {
  std::vector<std::string> words = {"prog", "a", "x", "y"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  const std::vector<Verb> verbs = {{"a", RunA, "the first"}};
  EXPECT_EQ(RunVerbs("prog", verbs, 4, argv.data()), 7);
  EXPECT_EQ(g_ran, 2);
  EXPECT_EQ(RunVerbs("prog", verbs, 1, argv.data()), 2);  // no verb: the list, status 2
  words[1] = "--help";
  argv[1] = words[1].data();
  EXPECT_EQ(RunVerbs("prog", verbs, 2, argv.data()), 0);
  words[1] = "b";
  argv[1] = words[1].data();
  EXPECT_EQ(RunVerbs("prog", verbs, 2, argv.data()), 2);
}

TEST(FlagsTest, RunCommandReportsTheWorksError) {
  int ran = 0;
  auto run = [&](const ParsedFlags& flags) {
    ++ran;
    return flags.Get("out") == "bad" ? absl::InvalidArgumentError("no") : absl::OkStatus();
  };
  EXPECT_EQ(RunCommand("prog verb", {"--out", "d"}, "--out DIR", "S.", kSpecs, 0, {"out"}, run), 0);
  EXPECT_EQ(RunCommand("prog verb", {"--out", "bad"}, "--out DIR", "S.", kSpecs, 0, {"out"}, run),
            1);
  EXPECT_EQ(RunCommand("prog verb", {}, "--out DIR", "S.", kSpecs, 0, {"out"}, run), 2);
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace rnnflow
