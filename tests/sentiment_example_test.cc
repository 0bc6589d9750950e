// examples/sentiment: the shipped model files are the builder's models
// (sentiment_models.h).
#include <string>

#include "examples/sentiment/sentiment_models.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow::sentiment {
namespace {

std::string ModelFile(const std::string& stem) {
  return std::string(RNNFLOW_SOURCE_DIR) + "/examples/sentiment/" + stem + ".pbtxt";
}

TEST(SentimentExample, EveryModelFileIsTheBuildersModel) {
  for (const std::string stem : {"model", "imdb"}) {
    auto file = LoadModelFile(ModelFile(stem));
    ASSERT_TRUE(file.ok()) << file.status();
    auto built = stem == "imdb" ? BuildImdbSentiment() : BuildSentiment();
    ASSERT_TRUE(built.ok()) << built.status();
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differ.Compare(file->model, *built)) << ModelFile(stem) << ":\n" << diff;
  }
}

}  // namespace
}  // namespace rnnflow::sentiment
