// `rnnflow prepare examples`: readers (JSON, TSV, CSV), tokenising,
// deduplication, hash splits, vocabularies and the .ex round trip; bad
// inputs are errors naming FILE:LINE:COLUMN.
#include "rnnflow/dataset/example_prepare.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_text.h"

namespace rnnflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Write(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::string OutDir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// The token strings of example i of a split, through vocab.tsv.
std::vector<std::string> TokensOf(const std::string& dir, const ExampleFile& f, int64_t i) {
  auto vocab = ExampleVocab::Read(dir + "/vocab.tsv", true);
  EXPECT_TRUE(vocab.ok()) << vocab.status();
  std::vector<std::string> out;
  for (int32_t id : f.tokens(i)) out.push_back(vocab->token(id));
  return out;
}

TEST(ExamplePrepareTest, JsonRoundTripWithDuplicatesSkipsAndAllSplits) {
  // 40 distinct texts (so every split gets some), one duplicate, one with a
  // null label, one empty text.
  std::string json = "[\n";
  for (int i = 0; i < 40; ++i) {
    json += "  {\"text\": \"Review number " + std::to_string(i) + " is " +
            (i % 2 ? "GOOD" : "bad") + "!\", \"class\": " + std::to_string(i % 2) + "},\n";
  }
  json += "  {\"text\": \"review NUMBER 3 is good!\", \"class\": 0},\n";  // dup, other label
  json += "  {\"text\": \"no label\", \"class\": null},\n";
  json += "  {\"text\": \"\", \"class\": 1}\n]\n";
  const std::string path = Write("reviews.json", json);
  ExamplePrepareOptions o;
  o.rules.lowercase = true;
  o.valid_fraction = 0.2;
  o.test_fraction = 0.2;
  const std::string dir = OutDir("prep_json");
  auto r = PrepareExamples({path}, dir, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source.records, 43);
  EXPECT_EQ(r->source.skipped_no_label, 1);
  EXPECT_EQ(r->source.skipped_empty, 1);
  EXPECT_EQ(r->duplicates, 1);
  EXPECT_EQ(r->conflicting, 1);
  EXPECT_EQ(r->split_examples[0] + r->split_examples[1] + r->split_examples[2], 40);
  for (int s = 0; s < 3; ++s) EXPECT_GT(r->split_examples[s], 0) << s;
  EXPECT_THAT(r->classes, ElementsAre("0", "1"));

  // Every example comes back with its tokens and label, in the split its
  // hash says.
  int64_t seen = 0;
  for (const char* split : {"train", "valid", "test"}) {
    auto f = ExampleFile::Open(dir + "/" + std::string(split) + ".ex");
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ((*f)->info().label_kind, LabelKind::kClass);
    EXPECT_EQ((*f)->info().num_classes, 2);
    for (int64_t i = 0; i < (*f)->size(); ++i) {
      const std::vector<std::string> tokens = TokensOf(dir, **f, i);
      ASSERT_EQ(tokens.size(), 6u);
      // Numbers seen only outside train are <unk> there.
      const int n = std::stoi(tokens[2] == "<unk>" ? "-1" : tokens[2]);
      if (n >= 0) {
        EXPECT_EQ((*f)->label(i), n % 2) << split << " " << i;
      }
      EXPECT_EQ(tokens[5], "!");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 40);
  auto rules = ReadExampleRules(dir);
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_TRUE(rules->rules.lowercase);
  EXPECT_EQ(rules->label_kind, LabelKind::kClass);

  // Deterministic: the same input gives byte-identical files.
  const std::string dir2 = OutDir("prep_json2");
  ASSERT_TRUE(PrepareExamples({path}, dir2, o).ok());
  for (const char* file : {"train.ex", "valid.ex", "test.ex", "vocab.tsv"}) {
    std::ifstream a(dir + "/" + file, std::ios::binary), b(dir2 + "/" + file, std::ios::binary);
    std::string sa((std::istreambuf_iterator<char>(a)), {}),
        sb((std::istreambuf_iterator<char>(b)), {});
    EXPECT_EQ(sa, sb) << file;
  }
}

TEST(ExamplePrepareTest, SplitDependsOnlyOnTheTokens) {
  const std::vector<std::string> a = {"a", "b"}, b = {"ab"};
  EXPECT_EQ(ExampleSplitOf(a, 0.3, 0.3), ExampleSplitOf(a, 0.3, 0.3));
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) ++counts[ExampleSplitOf({std::to_string(i)}, 0.1, 0.2)];
  EXPECT_NEAR(counts[1], 300, 60);
  EXPECT_NEAR(counts[2], 600, 80);
  // Token boundaries matter: ["a","b"] and ["ab"] hash differently.
  bool differ = false;
  for (double v = 0.05; v < 1 && !differ; v += 0.05) {
    differ = ExampleSplitOf(a, v, 0) != ExampleSplitOf(b, v, 0);
  }
  EXPECT_TRUE(differ);
}

TEST(ExamplePrepareTest, TsvAndCsvWithStringLabelsTagsAndPreSplitJson) {
  const std::string tsv = Write("s.tsv", "label\tsentence\npos\tFine day\nneg\tBad day\n");
  ExamplePrepareOptions o;
  o.format = "tsv";
  o.fields.text = "sentence";
  o.fields.label = "label";
  o.valid_fraction = 0;
  o.test_fraction = 0;
  auto r = PrepareExamples({tsv}, OutDir("prep_tsv"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->classes, ElementsAre("neg", "pos"));
  EXPECT_EQ(r->split_examples[0], 2);

  // CSV without a header, quoted fields with commas, doubled quotes and a
  // newline inside quotes.
  const std::string csv =
      Write("s.csv", "\"Hello, \"\"world\"\"\",1\r\n\"two\nlines\",0\nplain,1\n");
  o.format = "csv";
  o.fields.header = false;
  o.fields.text = "1";
  o.fields.label = "2";
  const std::string dir = OutDir("prep_csv");
  r = PrepareExamples({csv}, dir, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->split_examples[0], 3);
  auto f = ExampleFile::Open(dir + "/train.ex");
  ASSERT_TRUE(f.ok());
  EXPECT_THAT(TokensOf(dir, **f, 0), ElementsAre("Hello", ",", "\"", "world", "\""));
  EXPECT_THAT(TokensOf(dir, **f, 1), ElementsAre("two", "lines"));

  // Tagged, pre-split tokens in JSON.
  const std::string tagged = Write("t.json", R"([{"words": ["The", "dog"], "tags": ["DT", "NN"]},
                    {"words": ["A", "cat", "sat"], "tags": ["DT", "NN", "VBD"]}])");
  ExamplePrepareOptions t;
  t.fields.text = "words";
  t.fields.label = "";
  t.fields.tags = "tags";
  t.valid_fraction = 0;
  t.test_fraction = 0;
  const std::string tdir = OutDir("prep_tags");
  r = PrepareExamples({tagged}, tdir, t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_tags, 3);
  f = ExampleFile::Open(tdir + "/train.ex");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->info().has_tags);
  EXPECT_EQ((*f)->info().label_kind, LabelKind::kNone);
  auto tags = ExampleVocab::Read(tdir + "/tags.tsv", false);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->token((*f)->tags(1)[2]), "VBD");
  EXPECT_EQ(tags->token((*f)->tags(0)[0]), "DT");  // most frequent first
}

TEST(ExamplePrepareTest, VocabularyMinCountMaxVocabAndUnknownsOutsideTrain) {
  absl::flat_hash_map<std::string, int64_t> counts = {{"a", 5}, {"b", 3}, {"c", 3}, {"d", 1}};
  ExampleVocab v = ExampleVocab::Build(counts, 2, 0);
  ASSERT_EQ(v.size(), 5);
  EXPECT_EQ(v.token(kPadId), "<pad>");
  EXPECT_EQ(v.token(kUnkId), "<unk>");
  EXPECT_EQ(v.token(2), "a");
  EXPECT_EQ(v.token(3), "b");  // ties by byte order
  EXPECT_EQ(v.Find("d", kUnkId), kUnkId);
  EXPECT_EQ(ExampleVocab::Build(counts, 1, 4).size(), 4);
}

TEST(ExamplePrepareTest, MalformedJsonNamesLineAndColumn) {
  ExamplePrepareOptions o;
  struct Case {
    std::string json, expected;
  } cases[] = {
      {"[{\"text\": \"a\", \"class\": 1},\n {\"text\" \"b\"}]", "2:10: expected ':'"},
      {"[{\"text\": \"a\", \"class\": 1}\n {\"text\": \"b\"}]", "2:2: expected ']' or ','"},
      {"[{\"text\": \"unterminated}]", "1:11: unterminated string"},
      {"[{\"text\": {\"x\": 1}, \"class\": 1}]", "1:11: nested objects are not supported"},
      {"[{\"text\": \"a\", \"class\": tru}]", "1:25: expected a value"},
      {"{\"text\": \"a\"}", "1:1: expected '[' to open the array of records"},
      {"[{\"text\": \"a\\q\", \"class\": 1}]", "1:13: unknown escape '\\q'"},
      {"[{\"text\": 5, \"class\": 1}]", "1:11: field 'text' must be a string"},
      {"[{\"text\": \"a\", \"class\": 1}] x", "1:29: unexpected text after the array"},
  };
  for (const Case& c : cases) {
    const std::string path = Write("bad.json", c.json);
    auto r = PrepareExamples({path}, OutDir("prep_bad"), o);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(path + ":" + c.expected)) << c.json;
  }
}

TEST(ExamplePrepareTest, BadDelimitedFilesAndLabelsNamePositions) {
  ExamplePrepareOptions o;
  o.format = "csv";
  const std::string quote = Write("bad.csv", "text,class\nfine,1\nbro\"ken,0\n");
  auto r = PrepareExamples({quote}, OutDir("prep_bad"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr(quote + ":3:4: a quote inside an unquoted field"));

  const std::string open = Write("open.csv", "text,class\n\"never closed,1\n");
  r = PrepareExamples({open}, OutDir("prep_bad"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(open + ":2:1: unterminated quoted"));

  const std::string short_row = Write("short.csv", "text,class\nonly text\n");
  r = PrepareExamples({short_row}, OutDir("prep_bad"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(":2:10: the record has 1 field"));

  const std::string no_column = Write("nocol.csv", "words,class\nx,1\n");
  r = PrepareExamples({no_column}, OutDir("prep_bad"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr(no_column + ":1:1: the header has no column 'text'"));

  o.label_kind = LabelKind::kFloat;
  const std::string floats = Write("f.csv", "text,class\na,0.5\nb,high\n");
  r = PrepareExamples({floats}, OutDir("prep_bad"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr(floats + ":3:1: label 'high' is not a finite number "
                                 "(ExamplePrepareOptions::label_kind is kFloat)"));

  ExamplePrepareOptions chars;
  chars.rules.level = TokenLevel::kChar;
  const std::string utf8 =
      Write("u.json", "[{\"text\": \"ok\", \"class\": 1},\n {\"text\": \"b\xff\", \"class\": 0}]");
  r = PrepareExamples({utf8}, OutDir("prep_bad"), chars);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr(utf8 + ":2:2: the record's text: invalid UTF-8 at byte 1"));

  ExamplePrepareOptions none;
  none.fields.text = "body";
  const std::string empty = Write("e.json", "[{\"text\": \"a\", \"class\": 1}]");
  r = PrepareExamples({empty}, OutDir("prep_bad"), none);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no usable examples"));
}

// Errors about the options name their fields, as a library user set them.
TEST(ExamplePrepareTest, BadOptionsNameTheirFields) {
  const std::string input = Write("opts.json", "[{\"text\": \"a b\", \"class\": 1}]");
  ExamplePrepareOptions o;
  o.min_count = 0;
  EXPECT_EQ(PrepareExamples({input}, OutDir("prep_opts"), o).status().message(),
            "ExamplePrepareOptions::min_count must be >= 1; got 0");
  o = ExamplePrepareOptions();
  o.max_vocab = 2;
  EXPECT_EQ(PrepareExamples({input}, OutDir("prep_opts"), o).status().message(),
            "ExamplePrepareOptions::max_vocab must be 0 (no limit) or >= 3; got 2");
  o = ExamplePrepareOptions();
  o.test_fraction = 0.95;
  EXPECT_EQ(PrepareExamples({input}, OutDir("prep_opts"), o).status().message(),
            "ExamplePrepareOptions::valid_fraction and ExamplePrepareOptions::test_fraction must "
            "be >= 0 with a sum below 1; got 0.1 and 0.95");
}

TEST(ExamplePrepareTest, CorruptExampleFilesAreRejected) {
  ExampleFileInfo info;
  info.label_kind = LabelKind::kClass;
  info.label_width = 1;
  info.vocab_size = 5;
  info.num_classes = 2;
  Example a;
  a.tokens = {2, 3, 4};
  a.label = 1;
  const std::string path = ::testing::TempDir() + "/x.ex";
  ASSERT_TRUE(WriteExampleFile(path, info, {a}).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), {});
  }
  auto f = ExampleFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(std::vector<int32_t>((*f)->tokens(0).begin(), (*f)->tokens(0).end()),
              ElementsAre(2, 3, 4));
  // Truncated.
  Write("x_trunc.ex", bytes.substr(0, bytes.size() - 8));
  auto t = ExampleFile::Open(::testing::TempDir() + "/x_trunc.ex");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("does not fit the file"));
  // A token id beyond the vocabulary.
  std::string bad = bytes;
  bad[128 + 16] = 9;  // after the two offsets: token 0
  Write("x_id.ex", bad);
  t = ExampleFile::Open(::testing::TempDir() + "/x_id.ex");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("token id 9 at position 0"));
  Write("x_magic.ex",
        "not an example file at all, but long enough to hold a header........"
        "............................................................");
  t = ExampleFile::Open(::testing::TempDir() + "/x_magic.ex");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("no RNFEXMPL magic"));
}

}  // namespace
}  // namespace rnnflow
