// The sentiment classifiers of examples/sentiment (sentiment_models.h),
// built with the C++ graph-builder API; `--model imdb` picks imdb.pbtxt's
// (default: model.pbtxt's).
//
//   build/sentiment_sentiment_builder [--model imdb] --print    # the model as text
//   build/sentiment_sentiment_builder --check model.pbtxt       # same model as the file?
//   build/sentiment_sentiment_builder --model imdb --check imdb.pbtxt
//   build/sentiment_sentiment_builder --data DIR [--steps N]    # train it on a
//                                  # directory from `rnnflow prepare examples`
#include <iostream>
#include <string>
#include <vector>

#include "examples/builder_main.h"
#include "examples/sentiment/sentiment_models.h"

int main(int argc, char** argv) {
  bool imdb = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--model" && i + 1 < argc) {
      const std::string name = argv[++i];
      if (name != "imdb" && name != "model") {
        std::cerr << "--model: expected imdb or model; got '" << name << "'\n";
        return 2;
      }
      imdb = name == "imdb";
    } else {
      rest.push_back(argv[i]);
    }
  }
  return rnnflow::RunBuilderMain(
      static_cast<int>(rest.size()), rest.data(),
      imdb ? rnnflow::sentiment::BuildImdbSentiment() : rnnflow::sentiment::BuildSentiment());
}
