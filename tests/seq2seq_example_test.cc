// examples/seq2seq: the grapheme-to-phoneme model of model.pbtxt, trained
// briefly on a generated pronouncing dictionary in CMUdict's format (words
// of at most 7 letters, T = 12; the real data is fetched, never committed),
// learns:
// greedy and beam decoding of its training words get well below the
// phoneme error rate of the trivial empty output (100%), and held-out words
// below it too.
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "gtest/gtest.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/edit_distance.h"
#include "rnnflow/inference/seq2seq_decoder.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow {
namespace {

const std::string kRoot = RNNFLOW_SOURCE_DIR;
constexpr int64_t kT = 12;

// A generated pronouncing dictionary in CMUdict's format: words of at most
// 7 letters built from syllables (onset + vowel), an optional final
// consonant and a silent final 'e', with fixed spelling-to-sound rules
// (digraphs th/sh/ch and ee/oo are one phoneme each; the final 'e' is
// silent), so pronunciations are shorter than spellings and held-out words
// follow the same rules. Deterministic.
std::string GeneratedDictionary() {
  struct Unit {
    const char* spelling;
    const char* phoneme;
  };
  static const Unit kOnsets[] = {{"b", "B"},   {"d", "D"},  {"f", "F"}, {"g", "G"}, {"k", "K"},
                                 {"l", "L"},   {"m", "M"},  {"n", "N"}, {"p", "P"}, {"r", "R"},
                                 {"s", "S"},   {"t", "T"},  {"v", "V"}, {"z", "Z"}, {"th", "TH"},
                                 {"sh", "SH"}, {"ch", "CH"}};
  static const Unit kVowels[] = {{"a", "AE"}, {"e", "EH"},  {"i", "IH"}, {"o", "AA"},
                                 {"u", "AH"}, {"ee", "IY"}, {"oo", "UW"}};
  const std::string path = ::testing::TempDir() + "/generated_dict.txt";
  std::ofstream out(path);
  uint64_t state = 17;
  auto next = [&state](uint64_t n) {  // SplitMix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) % n;
  };
  for (int i = 0; i < 900; ++i) {
    std::string word, phonemes;
    const int syllables = 1 + static_cast<int>(next(3));
    for (int k = 0; k < syllables; ++k) {
      const Unit& c = kOnsets[next(std::size(kOnsets))];
      const Unit& v = kVowels[next(std::size(kVowels))];
      word += std::string(c.spelling) + v.spelling;
      phonemes += std::string(phonemes.empty() ? "" : " ") + c.phoneme + " " + v.phoneme;
    }
    if (next(2) == 0) {                   // a final consonant, sometimes with a silent 'e'
      const Unit& c = kOnsets[next(14)];  // single letters only
      word += c.spelling;
      phonemes += std::string(" ") + c.phoneme;
      if (next(2) == 0) word += "e";
    }
    if (word.size() > 7) continue;
    for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out << word << "  " << phonemes << "\n";
  }
  return path;
}

// Phoneme error rate of decoding every example of `file` (one reference each).
double Per(const Graph& g, Session& trained, const ExampleFile& file, int beam, double* acc) {
  auto decoder = Seq2SeqDecoder::Create(g, trained.params(), kT, 64, beam);
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  if (!decoder.ok()) return 1.0;
  std::vector<std::vector<int32_t>> sources;
  for (int64_t i = 0; i < file.size(); ++i) {
    sources.emplace_back(file.tokens(i).begin(), file.tokens(i).end());
  }
  DecodeOptions o;
  o.max_length = kT;
  auto best = DecodeAll(**decoder, sources, o);
  EXPECT_TRUE(best.ok()) << best.status();
  if (!best.ok()) return 1.0;
  ErrorRate rate;
  for (int64_t i = 0; i < file.size(); ++i) {
    rate.Add((*best)[i].tokens,
             {std::vector<int32_t>(file.targets(i).begin(), file.targets(i).end())});
  }
  *acc = rate.sequence_accuracy();
  return rate.token_error_rate();
}

TEST(Seq2SeqExampleTest, LearnsPronunciationsOfASlice) {
  ExamplePrepareOptions p;
  p.format = "cmudict";
  p.fields.label = "";
  p.fields.target = "phonemes";
  p.label_kind = LabelKind::kNone;
  p.rules.level = TokenLevel::kChar;
  p.valid_fraction = 0.1;
  p.test_fraction = 0.1;
  const std::string data = ::testing::TempDir() + "/g2p_slice";
  std::filesystem::remove_all(data);
  auto report = PrepareExamples({GeneratedDictionary()}, data, p);
  ASSERT_TRUE(report.ok()) << report.status();

  auto file = LoadModelFile(kRoot + "/examples/seq2seq/model.pbtxt");
  ASSERT_TRUE(file.ok()) << file.status();
  auto graph = Graph::Build(file->model, file->source);
  ASSERT_TRUE(graph.ok()) << graph.status();
  TrainerOptions o;
  o.data_path = data;
  o.steps = 200;
  o.streams = 32;
  o.truncation_steps = kT;
  o.learning_rate = 0.01f;
  o.bucket_window = 4;
  o.validate = false;
  o.threads = 1;  // OpenMP threads spinning on a shared 2-core machine cost 10x
  auto trainer = Trainer::Create(*graph, o);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto run = (*trainer)->Run();
  ASSERT_TRUE(run.ok()) << run.status();

  auto train = ExampleFile::Open(data + "/train.ex");
  auto valid = ExampleFile::Open(data + "/valid.ex");
  ASSERT_TRUE(train.ok() && valid.ok());
  double acc = 0;
  const double train_greedy = Per(*graph, (*trainer)->session(), **train, 1, &acc);
  const double train_beam = Per(*graph, (*trainer)->session(), **train, 4, &acc);
  const double held_out = Per(*graph, (*trainer)->session(), **valid, 1, &acc);
  RecordProperty("train_per_greedy", std::to_string(train_greedy));
  RecordProperty("held_out_per", std::to_string(held_out));
  std::cout << "train PER greedy " << train_greedy << " beam " << train_beam << ", held-out PER "
            << held_out << " (word accuracy " << acc << ")\n";
  EXPECT_LT(train_greedy, 0.35);
  EXPECT_LT(train_beam, 0.35);
  EXPECT_LT(held_out, 0.75);
}

}  // namespace
}  // namespace rnnflow
