// The CMUdict reader: entries, alternates, stress policy, Latin-1 lines,
// malformed lines with FILE:LINE:COLUMN, and preparation into pairs where all
// pronunciations of a word share a split.
#include "rnnflow/dataset/cmudict_source.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dataset/example_sources.h"

namespace rnnflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

ExampleFields PairFields() {
  ExampleFields f;
  f.label = "";
  f.target = "phonemes";
  return f;
}

TEST(CmudictSourceTest, ParsesEntriesAndAlternates) {
  CmudictEntry e;
  int64_t col = 0;
  ASSERT_TRUE(ParseCmudictLine("AARONSON(1)  AA1 R AH0 N S AH0 N", false, &e, &col).ok());
  EXPECT_EQ(e.word, "AARONSON");
  EXPECT_EQ(e.alternate, 1);
  EXPECT_THAT(e.phonemes, ElementsAre("AA", "R", "AH", "N", "S", "AH", "N"));
  ASSERT_TRUE(ParseCmudictLine("A.'S  EY1 Z", true, &e, &col).ok());
  EXPECT_EQ(e.word, "A.'S");
  EXPECT_EQ(e.alternate, 0);
  EXPECT_THAT(e.phonemes, ElementsAre("EY1", "Z"));
}

TEST(CmudictSourceTest, MalformedLinesNameTheColumn) {
  struct Case {
    std::string line, message;
    int64_t column;
  } cases[] = {
      {"  AH0", "expected a word", 1},
      {"WORD", "has no phonemes", 5},
      {"WORD  AH0 b", "phoneme 'b' is not an ARPAbet symbol", 11},
      {"WORD  AH7", "phoneme 'AH7'", 7},
      {"WORD(x)  AH0", "must be '(n)' with n >= 1", 6},
      {"WORD(1  AH0", "unterminated alternate suffix", 5},
  };
  for (const Case& c : cases) {
    CmudictEntry e;
    int64_t col = 0;
    const absl::Status s = ParseCmudictLine(c.line, false, &e, &col);
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.line;
    EXPECT_EQ(col, c.column) << c.line;
  }
}

TEST(CmudictSourceTest, FileErrorsNameFileLineColumn) {
  const std::string path = WriteFile("bad_dict.txt", ";;; comment\nCAT  K AE1 T\n\nDOG  D AO1 g\n");
  auto source = OpenExampleSource("cmudict", path, PairFields());
  ASSERT_TRUE(source.ok()) << source.status();
  ExampleSourceStats stats;
  const absl::Status s = (*source)->ForEach([](RawExample&) { return absl::OkStatus(); }, &stats);
  EXPECT_THAT(s.message(), HasSubstr(path + ":4:12: phoneme 'g'"));
}

TEST(CmudictSourceTest, NeedsPairFields) {
  ExampleFields f;  // label "class", no target
  auto source = OpenExampleSource("cmudict", "x.txt", f);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(),
              HasSubstr("leave ExampleFields::label empty and name ExampleFields::target"));
}

TEST(CmudictSourceTest, ReadsLatin1LinesAsUtf8) {
  const std::string path = WriteFile("latin1.txt", "D\xC9J\xC0  D EY2 JH AA1\n");
  auto source = OpenExampleSource("cmudict-stress", path, PairFields());
  ASSERT_TRUE(source.ok());
  std::vector<RawExample> got;
  ExampleSourceStats stats;
  ASSERT_TRUE((*source)
                  ->ForEach(
                      [&](RawExample& ex) {
                        got.push_back(ex);
                        return absl::OkStatus();
                      },
                      &stats)
                  .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "D\xC3\x89J\xC3\x80");
  EXPECT_THAT(got[0].target_tokens, ElementsAre("D", "EY2", "JH", "AA1"));
}

TEST(CmudictSourceTest, AlternatesShareTheirWordsSplit) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    const std::string w = "W" + std::to_string(i);
    text += w + "  W AH1 N\n" + w + "(1)  T UW1\n";
  }
  const std::string path = WriteFile("alts.txt", text);
  ExamplePrepareOptions o;
  o.format = "cmudict";
  o.fields = PairFields();
  o.label_kind = LabelKind::kNone;
  o.rules.level = TokenLevel::kChar;
  o.valid_fraction = 0.3;
  o.test_fraction = 0.3;
  const std::string dir = ::testing::TempDir() + "/alts";
  std::filesystem::remove_all(dir);
  auto report = PrepareExamples({path}, dir, o);
  ASSERT_TRUE(report.ok()) << report.status();
  int64_t total = 0;
  for (const char* split : {"train", "valid", "test"}) {
    auto f = ExampleFile::Open(dir + "/" + split + ".ex");
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE((*f)->info().has_targets);
    EXPECT_EQ((*f)->size() % 2, 0) << split;  // both pronunciations or neither
    EXPECT_GT((*f)->size(), 0) << split;
    total += (*f)->size();
  }
  EXPECT_EQ(total, 400);
}

}  // namespace
}  // namespace rnnflow
