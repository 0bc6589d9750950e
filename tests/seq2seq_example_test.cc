// examples/seq2seq: the grapheme-to-phoneme model of model.pbtxt, trained
// briefly on the words of at most 7 letters of a 999-entry slice of CMUdict
// (tests/testdata/cmudict_slice.txt; T = 12), learns:
// greedy and beam decoding of its training words get well below the
// phoneme error rate of the trivial empty output (100%), and held-out words
// below it too.
#include <filesystem>
#include <fstream>
#include <memory>

#include "graph/graph.h"
#include "graph/model_loader.h"
#include "gtest/gtest.h"
#include "runtime/edit_distance.h"
#include "runtime/example_file.h"
#include "runtime/example_prepare.h"
#include "runtime/seq2seq_decoder.h"
#include "runtime/trainer.h"

namespace rnnflow {
namespace {

const std::string kRoot = RNNFLOW_SOURCE_DIR;
constexpr int64_t kT = 12;

// The slice's entries whose word has at most 7 characters.
std::string ShortWords() {
  std::ifstream in(kRoot + "/tests/testdata/cmudict_slice.txt");
  const std::string path = ::testing::TempDir() + "/cmudict_short.txt";
  std::ofstream out(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    if (line.rfind(";;;", 0) == 0 || space == std::string::npos) continue;
    std::string word = line.substr(0, space);
    if (word.find('(') != std::string::npos) word = word.substr(0, word.find('('));
    if (word.size() <= 7) out << line << "\n";
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
  auto report = PrepareExamples({ShortWords()}, data, p);
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
