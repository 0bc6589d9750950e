// examples/one_to_many: the shipped model files are the builder's models,
// the records and preparation pipeline round-trips, and on generated names
// whose last letter is decided by the gender alone the conditioned model
// learns what the unconditioned one cannot, and generates it.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "examples/one_to_many/names_data.h"
#include "examples/one_to_many/names_model.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/generator.h"
#include "rnnflow/training/example_batch_source.h"
#include "rnnflow/training/example_feed.h"
#include "rnnflow/training/trainer.h"

namespace rnnflow::one_to_many {
namespace {

TEST(OneToManyExample, ModelFilesAreTheBuildersModels) {
  for (bool conditioned : {true, false}) {
    const std::string path = std::string(RNNFLOW_SOURCE_DIR) + "/examples/one_to_many/" +
                             (conditioned ? "model" : "unconditioned") + ".pbtxt";
    auto file = LoadModelFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    auto built = BuildNamesModel(conditioned);
    ASSERT_TRUE(built.ok()) << built.status();
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differ.Compare(file->model, *built)) << path << ":\n" << diff;
  }
}

TEST(OneToManyExample, RecordsRejectBadLinesWithTheirPosition) {
  const std::string tsv = ::testing::TempDir() + "/bad_names.tsv";
  std::ofstream(tsv) << "name\tgender\nAnna\tfemale\nBo b\tmale\n";
  auto r = WriteNameRecords(tsv, ::testing::TempDir() + "/bad_names.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad_names.tsv:3:3"), std::string::npos) << r.status();
  std::ofstream(tsv) << "name\tgender\nAnna\tunknown\n";
  r = WriteNameRecords(tsv, ::testing::TempDir() + "/bad_names.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad_names.tsv:2:1"), std::string::npos) << r.status();
  EXPECT_FALSE(WriteNameRecords(::testing::TempDir() + "/absent.tsv", "x.json").ok());
}

// Generated names: two random consonant-vowel syllables shared by both
// genders, then 'a' (female) or 'o' (male): only the gender tells the last
// letter.
std::string WriteSyntheticNames(const std::string& dir) {
  const std::string tsv = dir + "/names.tsv";
  std::ofstream out(tsv);
  out << "name\tgender\n";
  const std::string consonants = "bdklmnrst", vowels = "aeiu";
  uint64_t state = 12345;
  auto next = [&state](size_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((state >> 33) % n);
  };
  for (int i = 0; i < 800; ++i) {
    std::string stem;
    for (int s = 0; s < 2; ++s) {
      stem += consonants[next(consonants.size())];
      stem += vowels[next(vowels.size())];
    }
    stem += consonants[next(consonants.size())];
    out << stem << (i % 2 ? "o\tmale\n" : "a\tfemale\n");
  }
  return tsv;
}

struct Trained {
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Trainer> trainer;
  double test_loss = 0;
};

Trained TrainOn(const std::string& data, bool conditioned) {
  Trained t;
  auto model = BuildNamesModel(conditioned);
  EXPECT_TRUE(model.ok()) << model.status();
  auto graph = Graph::Build(*model, SourceMap("names"));
  EXPECT_TRUE(graph.ok()) << graph.status();
  t.graph = std::make_unique<Graph>(*std::move(graph));
  TrainerOptions o;
  o.data_path = data;
  o.steps = 250;
  o.truncation_steps = 7;
  o.streams = 32;
  o.validate = false;
  o.threads = 1;
  auto trainer = Trainer::Create(*t.graph, o);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  t.trainer = *std::move(trainer);
  EXPECT_TRUE(t.trainer->Run().ok());
  auto test = ExampleFile::Open(data + "/test.ex");
  EXPECT_TRUE(test.ok()) << test.status();
  auto feeder = ExampleFeeder::Create(t.trainer->session(), (*test)->info(), data);
  EXPECT_TRUE(feeder.ok()) << feeder.status();
  auto ev = EvaluateExamples(t.trainer->session(), **feeder, **test);
  EXPECT_TRUE(ev.ok()) << ev.status();
  t.test_loss = ev->loss;
  return t;
}

TEST(OneToManyExample, TheGenderConditionsTheGeneratedName) {
  const std::string dir = ::testing::TempDir() + "/one_to_many";
  std::filesystem::create_directories(dir);
  const std::string json = dir + "/names.json";
  auto records = WriteNameRecords(WriteSyntheticNames(dir), json);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(*records, 800);
  ExamplePrepareOptions p;
  p.fields.text = "letters";
  p.fields.tags = "next";
  p.fields.label = "gender";
  p.deduplicate = false;
  p.valid_fraction = 0.1;
  p.test_fraction = 0.2;
  auto report = PrepareExamples({json}, dir + "/prep", p);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->classes, (std::vector<std::string>{"female", "male"}));

  Trained with = TrainOn(dir + "/prep", true);
  Trained without = TrainOn(dir + "/prep", false);
  // Every name has 7 predicted positions; the unconditioned model pays about
  // ln 2 for the last letter (0.1 nats per position) that the gender decides.
  std::cout << "test loss: conditioned " << with.test_loss << ", unconditioned "
            << without.test_loss << " nats per position\n";
  EXPECT_LT(with.test_loss, without.test_loss - 0.05)
      << "conditioned " << with.test_loss << " vs unconditioned " << without.test_loss;

  // Greedy names from the T = 1 step graph end as their gender says.
  auto generator = Generator::Create(*with.graph, with.trainer->session().params());
  ASSERT_TRUE(generator.ok()) << generator.status();
  auto vocab = ExampleVocab::Read(dir + "/prep/vocab.tsv", true);
  auto tags = ExampleVocab::Read(dir + "/prep/tags.tsv", false);
  ASSERT_TRUE(vocab.ok() && tags.ok());
  std::vector<int32_t> feed_back;
  for (int64_t o = 0; o < tags->size(); ++o) feed_back.push_back(vocab->Find(tags->token(o), -1));
  const int32_t stop = tags->Find("</s>", -1);
  auto gender = (*generator)->session().input("gender");
  ASSERT_TRUE(gender.ok()) << gender.status();
  SampleOptions greedy;
  greedy.top_k = 1;
  greedy.length = 10;
  for (int g = 0; g < 2; ++g) {
    gender->f32()[0] = static_cast<float>(g);
    for (const char* first : {"b", "k", "s"}) {
      auto ids = (*generator)
                     ->GenerateIds({vocab->Find("<s>", -1), vocab->Find(first, -1)}, feed_back,
                                   stop, greedy);
      ASSERT_TRUE(ids.ok()) << ids.status();
      ASSERT_GE(ids->size(), 2u);
      EXPECT_EQ(ids->back(), stop);
      EXPECT_EQ(tags->token((*ids)[ids->size() - 2]), g == 0 ? "a" : "o") << "gender " << g;
    }
  }
}

}  // namespace
}  // namespace rnnflow::one_to_many
