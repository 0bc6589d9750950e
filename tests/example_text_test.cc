// The tokenising rules shared by `prepare examples` and `predict`.
#include "rnnflow/dataset/example_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnflow {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Words(const std::string& text, bool lower = false, bool html = false) {
  TextRules r;
  r.lowercase = lower;
  r.strip_html = html;
  auto t = Tokenize(text, r);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : std::vector<std::string>{};
}

TEST(ExampleTextTest, WordsPunctuationApostrophesAndUtf8) {
  EXPECT_THAT(
      Words("Don't stop -- it's 'great', 10/10!"),
      ElementsAre("Don't", "stop", "-", "-", "it's", "'", "great", "'", ",", "10", "/", "10", "!"));
  EXPECT_THAT(Words("  Café\tNAÏVE\n"), ElementsAre("Café", "NAÏVE"));
  EXPECT_THAT(Words("Café NAÏVE", /*lower=*/true), ElementsAre("café", "naÏve"));
  EXPECT_TRUE(Words(" \t\r\n").empty());
}

TEST(ExampleTextTest, StripHtmlOnlyRemovesShortTags) {
  EXPECT_THAT(Words("Good.<br /><br />Bad", false, true), ElementsAre("Good", ".", "Bad"));
  EXPECT_THAT(Words("a < b > c", false, true), ElementsAre("a", "c"));
  EXPECT_THAT(Words("1 < 2", false, true), ElementsAre("1", "<", "2"));
  EXPECT_THAT(Words("Good.<br />", false, false), ElementsAre("Good", ".", "<", "br", "/", ">"));
}

TEST(ExampleTextTest, CharactersCollapseWhitespaceAndRejectBadUtf8) {
  TextRules r;
  r.level = TokenLevel::kChar;
  auto t = Tokenize("  aé \n\t b ", r);
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(*t, ElementsAre("a", "é", " ", "b"));
  int64_t bad = -1;
  t = Tokenize("ab\xC3", r, &bad);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(bad, 2);
}

TEST(ExampleTextTest, VocabularyFileRoundTrip) {
  absl::flat_hash_map<std::string, int64_t> counts = {{"tab\there", 3}, {"x", 2}, {"\\", 2}};
  ExampleVocab v = ExampleVocab::Build(counts, 1, 0);
  const std::string path = ::testing::TempDir() + "/vocab.tsv";
  ASSERT_TRUE(v.Write(path).ok());
  auto back = ExampleVocab::Read(path, true);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), v.size());
  for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(back->token(i), v.token(i));
  EXPECT_EQ(back->Find("tab\there", kUnkId), 2);
}

}  // namespace
}  // namespace rnnflow
