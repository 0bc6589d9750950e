// Text preparation (dataset/corpus.h) and the prepared-token readers
// (dataset/token_streams.h): round trips, splits, stream layout, UTF-8
// errors, bounded memory.
#include "rnnflow/dataset/corpus.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/internal/data_io.h"
#include "rnnflow/dataset/token_streams.h"

namespace rnnflow {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<uint32_t> ReadTokens(const std::string& path) {
  auto file = TokenFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  std::vector<uint32_t> out;
  if (!file.ok()) return out;
  for (int64_t i = 0; i < (*file)->size(); ++i) out.push_back((*file)->at(i));
  return out;
}

// Decodes a split back to text through vocab.tsv.
std::string Decode(const std::string& dir, const std::string& split) {
  auto vocab = ReadVocabulary(dir);
  EXPECT_TRUE(vocab.ok()) << vocab.status();
  std::string text;
  for (uint32_t id : ReadTokens(dir + "/" + split + ".tok")) text += vocab->tokens.at(id);
  return text;
}

std::string Mixed() {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&text, "line ", i, ": caf\xC3\xA9 \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC ",
                    "\xF0\x9F\x98\x80\t\\ \"q\"\n");
  }
  return text;
}

TEST(CorpusTest, ByteLevelRoundTrip) {
  std::string text = Mixed();
  text += std::string("\x00\xFF\x80 raw bytes", 13);  // not UTF-8: fine at byte level
  const std::string input = WriteFile("bytes.txt", text);
  const std::string dir = testing::TempDir() + "/prep_bytes";
  TextPrepareOptions options;
  options.block_bytes = 333;  // many blocks, boundaries everywhere
  auto report = PrepareText(input, dir, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->vocab_size, 256);
  EXPECT_EQ(report->token_width, 1);
  EXPECT_EQ(report->unk_id, -1);
  const int64_t size = static_cast<int64_t>(text.size());
  const int64_t train_end = static_cast<int64_t>(std::floor(size * 0.9));
  const int64_t valid_end = static_cast<int64_t>(std::floor(size * 0.95));
  EXPECT_EQ(report->splits[0].tokens, train_end);
  EXPECT_EQ(report->splits[1].tokens, valid_end - train_end);
  EXPECT_EQ(report->splits[2].tokens, size - valid_end);
  // The token files are the bytes; vocab.tsv decodes them.
  EXPECT_EQ(Decode(dir, "train") + Decode(dir, "valid") + Decode(dir, "test"), text);
  auto vocab = ReadVocabulary(dir);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  ASSERT_EQ(vocab->tokens.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(vocab->tokens[b], std::string(1, static_cast<char>(b)));
  int64_t spaces = 0;
  for (int64_t i = 0; i < train_end; ++i) spaces += text[i] == ' ';
  EXPECT_EQ(vocab->counts[' '], spaces);
  EXPECT_THAT(ReadAll(dir + "/meta.json"), testing::HasSubstr("\"level\": \"byte\""));
}

TEST(CorpusTest, CharLevelRoundTripWithUnknownCharacters) {
  // The euro sign and the snowman appear only after the train split.
  std::string text = Mixed();
  const size_t train_bytes = text.size();
  const std::string tail = "\xE2\x82\xAC\xE2\x98\x83 caf\xC3\xA9\n";
  std::string rest;
  while (rest.size() < train_bytes / 4) rest += tail;
  text += rest;
  const std::string input = WriteFile("chars.txt", text);
  const std::string dir = testing::TempDir() + "/prep_chars";
  TextPrepareOptions options;
  options.level = TextLevel::kChar;
  options.valid_fraction = 0.1;
  options.test_fraction = 0.1;
  options.block_bytes = 7;  // characters straddle blocks
  auto report = PrepareText(input, dir, options);
  ASSERT_TRUE(report.ok()) << report.status();
  auto vocab = ReadVocabulary(dir);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  EXPECT_EQ(report->vocab_size, static_cast<int64_t>(vocab->tokens.size()));
  EXPECT_EQ(vocab->unk_id, report->vocab_size - 1);
  EXPECT_EQ(report->unk_id, vocab->unk_id);
  EXPECT_EQ(vocab->tokens[0], " ");  // most frequent first
  for (size_t i = 1; i + 1 < vocab->counts.size(); ++i) {
    EXPECT_GE(vocab->counts[i - 1], vocab->counts[i]);
  }
  EXPECT_THAT(vocab->tokens, testing::Contains("\xF0\x9F\x98\x80"));
  EXPECT_THAT(vocab->tokens, testing::Contains("\t"));
  EXPECT_THAT(vocab->tokens, testing::Not(testing::Contains("\xE2\x82\xAC")));
  // Decoding gives the text back, with <unk> for the unseen characters.
  std::string expected = text;
  for (const std::string unseen : {"\xE2\x82\xAC", "\xE2\x98\x83"}) {
    for (size_t at; (at = expected.find(unseen)) != std::string::npos;) {
      expected.replace(at, unseen.size(), "<unk>");
    }
  }
  const std::string decoded = Decode(dir, "train") + Decode(dir, "valid") + Decode(dir, "test");
  EXPECT_EQ(decoded, expected);
  EXPECT_GT(report->splits[1].unknown + report->splits[2].unknown, 0);
  EXPECT_EQ(report->splits[0].unknown, 0);
}

TEST(CorpusTest, CharLevelUsesWiderTokensForLargeVocabularies) {
  std::string text;
  for (int round = 0; round < 20; ++round) {
    for (uint32_t cp = 0x4E00; cp < 0x4E00 + 300; ++cp) {  // 300 CJK characters
      text += static_cast<char>(0xE0 | (cp >> 12));
      text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  const std::string dir = testing::TempDir() + "/prep_wide";
  TextPrepareOptions options;
  options.level = TextLevel::kChar;
  auto report = PrepareText(WriteFile("wide.txt", text), dir, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->vocab_size, 301);
  EXPECT_EQ(report->token_width, 2);
  EXPECT_EQ(Decode(dir, "train") + Decode(dir, "valid") + Decode(dir, "test"), text);
  auto streams = TokenStreams::OpenPrepared(dir, "train", 4, 8);
  ASSERT_TRUE(streams.ok()) << streams.status();
  EXPECT_EQ((*streams)->vocab_size(), 301);
}

TEST(CorpusTest, SplitsAreDeterministic) {
  const std::string input = WriteFile("det.txt", Mixed());
  TextPrepareOptions options;
  options.level = TextLevel::kChar;
  const std::string a = testing::TempDir() + "/prep_det_a", b = testing::TempDir() + "/prep_det_b";
  ASSERT_TRUE(PrepareText(input, a, options).ok());
  options.block_bytes = 5;
  ASSERT_TRUE(PrepareText(input, b, options).ok());
  for (const char* f : {"train.tok", "valid.tok", "test.tok", "vocab.tsv"}) {
    EXPECT_EQ(ReadAll(a + "/" + f), ReadAll(b + "/" + f)) << f;
  }
}

TEST(CorpusTest, StreamsAreContiguousColumnsAndChunksTileTheCorpus) {
  const std::string input = WriteFile("streams.txt", Mixed());
  const std::string dir = testing::TempDir() + "/prep_streams";
  TextPrepareOptions options;
  options.level = TextLevel::kChar;
  ASSERT_TRUE(PrepareText(input, dir, options).ok());
  const std::vector<uint32_t> corpus = ReadTokens(dir + "/train.tok");
  const int64_t C = 3, T = 5;
  auto opened = TokenStreams::OpenPrepared(dir, "train", C, T);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TokenStreams& s = **opened;
  const int64_t L = (static_cast<int64_t>(corpus.size()) - 1) / C;
  EXPECT_EQ(s.stream_length(), L);
  std::vector<int32_t> tokens(T * C), targets(T * C);
  std::vector<std::vector<int32_t>> columns(C), next(C);
  for (int64_t k = 0; k < s.chunks_per_epoch(); ++k) {
    EXPECT_EQ(s.Next(absl::MakeSpan(tokens), absl::MakeSpan(targets)), k == 0);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t c = 0; c < C; ++c) {
        columns[c].push_back(tokens[t * C + c]);
        next[c].push_back(targets[t * C + c]);
      }
    }
  }
  // Column c is corpus[c*L, c*L + chunks*T): contiguous, and the columns
  // follow each other, so together they tile the corpus.
  const int64_t covered = s.chunks_per_epoch() * T;
  EXPECT_GT(covered, L - T);
  for (int64_t c = 0; c < C; ++c) {
    ASSERT_EQ(static_cast<int64_t>(columns[c].size()), covered);
    for (int64_t i = 0; i < covered; ++i) {
      ASSERT_EQ(columns[c][i], static_cast<int32_t>(corpus[c * L + i])) << c << " " << i;
      ASSERT_EQ(next[c][i], static_cast<int32_t>(corpus[c * L + i + 1])) << c << " " << i;
    }
  }
  // The next chunk wraps to a new pass.
  EXPECT_TRUE(s.Next(absl::MakeSpan(tokens), absl::MakeSpan(targets)));
  EXPECT_EQ(tokens[0], static_cast<int32_t>(corpus[0]));
  EXPECT_EQ(s.position(), T);
}

TEST(CorpusTest, OpenTrainingStreamsTakesARawFileOrAPreparedDirectory) {
  const std::string text = Mixed();
  const std::string input = WriteFile("raw.txt", text);
  auto raw = OpenTrainingStreams(input, "valid", 2, 4);
  ASSERT_TRUE(raw.ok()) << raw.status();
  std::vector<int32_t> tokens(8), targets(8);
  (*raw)->Next(absl::MakeSpan(tokens), absl::MakeSpan(targets));
  const int64_t begin = static_cast<int64_t>(0.9 * text.size());
  EXPECT_EQ(tokens[0], static_cast<uint8_t>(text[begin]));
  EXPECT_EQ((*raw)->vocab_size(), 256);
  auto no_test = OpenTrainingStreams(input, "test", 2, 4);
  EXPECT_FALSE(no_test.ok());
  EXPECT_THAT(no_test.status().message(), testing::HasSubstr("only the splits train"));

  const std::string dir = testing::TempDir() + "/prep_training";
  ASSERT_TRUE(PrepareText(input, dir, {}).ok());
  for (const char* split : {"train", "valid", "test"}) {
    auto s = OpenTrainingStreams(dir, split, 2, 4);
    EXPECT_TRUE(s.ok()) << split << ": " << s.status();
  }
  auto bad = OpenTrainingStreams(dir, "dev", 2, 4);
  EXPECT_THAT(bad.status().message(), testing::HasSubstr("unknown split 'dev'"));
  auto missing = OpenTrainingStreams(dir + "/nope", "train", 2, 4);
  EXPECT_THAT(missing.status().message(), testing::HasSubstr("nope: cannot open"));
  auto too_many = OpenTrainingStreams(dir, "test", 1000, 50);
  EXPECT_THAT(too_many.status().message(), testing::HasSubstr("too few for 1000 streams"));
}

TEST(CorpusTest, CorruptTokenFilesAreErrors) {
  const std::string dir = testing::TempDir() + "/prep_corrupt";
  ASSERT_TRUE(PrepareText(WriteFile("corrupt.txt", Mixed()), dir, {}).ok());
  std::string tok = ReadAll(dir + "/valid.tok");
  WriteFile("prep_corrupt/valid.tok", tok.substr(0, tok.size() - 1));
  auto s = TokenFile::Open(dir + "/valid.tok");
  EXPECT_THAT(s.status().message(), testing::HasSubstr("truncated file?"));
  WriteFile("prep_corrupt/valid.tok", "hello, world: not tokens at all");
  EXPECT_THAT(TokenFile::Open(dir + "/valid.tok").status().message(),
              testing::HasSubstr("too short for a token file header"));
  WriteFile("prep_corrupt/valid.tok", std::string(40, 'x'));
  EXPECT_THAT(TokenFile::Open(dir + "/valid.tok").status().message(),
              testing::HasSubstr("not a token file"));
}

struct Utf8Case {
  std::string bytes;
  std::string where;  // ":LINE:COL: invalid UTF-8 at byte offset N: "
  std::string reason;
};

TEST(CorpusTest, MalformedUtf8NamesLineColumnAndOffset) {
  const std::vector<Utf8Case> cases = {
      {"ab\ncd\xC3(x", ":2:3: invalid UTF-8 at byte offset 5: ",
       "the character starting with byte 0xc3 is cut short by byte 0x28"},
      {"\xC3\xA9t\xC3\xA9\n\n  \x80",
       ":3:3: invalid UTF-8 at byte offset 9: ", "unexpected continuation byte 0x80"},
      {"x\xC0\x80",
       ":1:2: invalid UTF-8 at byte offset 1: ", "byte 0xc0 starts an overlong encoding"},
      {"ok\xED\xA0\x80", ":1:3: invalid UTF-8 at byte offset 2: ",
       "the sequence 0xed 0xa0... is an overlong form, a surrogate or beyond U+10FFFF"},
      {"\xF5\x80\x80\x80",
       ":1:1: invalid UTF-8 at byte offset 0: ", "byte 0xf5 cannot start a character"},
      {"end\n\xE2\x82", ":2:1: invalid UTF-8 at byte offset 4: ",
       "the file ends inside the character starting with byte 0xe2"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    for (int64_t block : {1, 2, 1 << 20}) {
      const std::string input = WriteFile(absl::StrCat("bad", i, ".txt"), cases[i].bytes);
      TextPrepareOptions options;
      options.level = TextLevel::kChar;
      options.block_bytes = block;
      options.valid_fraction = options.test_fraction = 0;
      auto r = PrepareText(input, testing::TempDir() + "/prep_bad", options);
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.status().message(), input + cases[i].where + cases[i].reason)
          << "case " << i << ", block " << block;
    }
  }
  // The same bytes are fine at byte level.
  TextPrepareOptions bytes;
  bytes.valid_fraction = bytes.test_fraction = 0;
  EXPECT_TRUE(PrepareText(WriteFile("bad_bytes.txt", cases[0].bytes),
                          testing::TempDir() + "/prep_bad_bytes", bytes)
                  .ok());
}

TEST(CorpusTest, BadOptionsAreErrors) {
  const std::string input = WriteFile("opts.txt", "abc");
  TextPrepareOptions options;
  options.valid_fraction = 0.6;
  options.test_fraction = 0.5;
  // Errors name the fields of the options (a library user set no flag).
  EXPECT_EQ(PrepareText(input, testing::TempDir() + "/prep_opts", options).status().message(),
            "TextPrepareOptions::valid_fraction and TextPrepareOptions::test_fraction must be >= 0 "
            "with a sum below 1; got 0.6 and 0.5");
  TextPrepareOptions rare;
  rare.min_count = 0;
  EXPECT_EQ(PrepareText(input, testing::TempDir() + "/prep_opts", rare).status().message(),
            "TextPrepareOptions::min_count must be >= 1; got 0");
  EXPECT_THAT(PrepareText(WriteFile("empty.txt", ""), testing::TempDir() + "/prep_opts", {})
                  .status()
                  .message(),
              testing::HasSubstr("nothing for the train split"));
  EXPECT_EQ(ParseTextLevel("word").status().message(),
            "unknown text level 'word' (expected byte or char)");
}

TEST(CorpusTest, TokensEscapeAndUnescape) {
  for (const std::string t : {"\t", "\n", "\r", "\\", " ", "\x01", "\x7F", "a", "\xC3\xA9"}) {
    for (TextLevel level : {TextLevel::kByte, TextLevel::kChar}) {
      const std::string escaped = EscapeToken(t, level);
      EXPECT_EQ(escaped.find_first_of("\t\n\r "), std::string::npos) << escaped;
      auto back = UnescapeToken(escaped);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, t);
    }
  }
  EXPECT_EQ(EscapeToken("\xC3\xA9", TextLevel::kChar), "\xC3\xA9");
  EXPECT_EQ(EscapeToken("\xC3", TextLevel::kByte), "\\xc3");
  EXPECT_FALSE(UnescapeToken("\\q").ok());
}

// Streams a generated corpus much larger than the memory limit through
// char-level preparation (two passes) and checks that the peak resident set
// grows by far less than the corpus.
TEST(CorpusTest, MemoryStaysBoundedOnALargeCorpus) {
  constexpr int64_t kCorpusBytes = 200 << 20;
  constexpr int64_t kLimitBytes = 64 << 20;
  const std::string input = testing::TempDir() + "/large_corpus.txt";
  {
    BlockWriter w;
    ASSERT_TRUE(w.Open(input).ok());
    std::string block;
    uint32_t x = 12345;
    while (block.size() < (1 << 20)) {
      x = x * 1103515245u + 12345u;
      const uint32_t r = (x >> 16) % 64;
      if (r < 52) {
        block += static_cast<char>('a' + r % 26);
      } else if (r < 60) {
        block += ' ';
      } else if (r < 62) {
        block += '\n';
      } else {
        block += "\xC3\xA9";  // é
      }
    }
    for (int64_t written = 0; written < kCorpusBytes; written += block.size()) {
      ASSERT_TRUE(w.Write(block).ok());
    }
    ASSERT_TRUE(w.Commit().ok());
  }
  // Resident now (not the earlier peak), so `growth` is an upper bound.
  int64_t pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  const int64_t before = resident * ::sysconf(_SC_PAGESIZE);
  const std::string dir = testing::TempDir() + "/prep_large";
  TextPrepareOptions options;
  options.level = TextLevel::kChar;
  auto report = PrepareText(input, dir, options);
  ASSERT_TRUE(report.ok()) << report.status();
  const int64_t growth = report->peak_rss_bytes - before;
  EXPECT_LT(growth, kLimitBytes) << "peak RSS " << report->peak_rss_bytes << " before " << before;
  EXPECT_GE(report->input_bytes, kCorpusBytes);
  std::printf("prepared %.0f MB at %.1f MB/s; peak RSS %.1f MB (+%.1f MB)\n",
              report->input_bytes / 1e6, report->mb_per_second, report->peak_rss_bytes / 1e6,
              growth / 1e6);
  EXPECT_EQ(report->vocab_size, 26 + 3 + 1);
  std::remove(input.c_str());
  for (const char* f : {"train.tok", "valid.tok", "test.tok"}) {
    std::remove((dir + "/" + f).c_str());
  }
}

}  // namespace
}  // namespace rnnflow
