// The sentiment classifiers of examples/sentiment (sentiment_models.h),
// built with the C++ graph-builder API; `--model imdb` picks imdb.pbtxt's
// (default: model.pbtxt's).
//
//   build/sentiment_sentiment_builder [--model imdb] --print    # the model as text
//   build/sentiment_sentiment_builder --check model.pbtxt       # same model as the file?
//   build/sentiment_sentiment_builder --model imdb --check imdb.pbtxt
//   build/sentiment_sentiment_builder --data DIR [--steps N]    # train it on a
//                                  # directory from `rnnflow prepare examples`
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/builder_main.h"
#include "examples/sentiment/sentiment_models.h"

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(
      argc, argv,
      [](const rnnflow::ParsedFlags& flags) -> absl::StatusOr<rnnflow::ModelDef> {
        const std::string model = flags.Get("model", "model");
        if (model == "imdb") return rnnflow::sentiment::BuildImdbSentiment();
        if (model == "model") return rnnflow::sentiment::BuildSentiment();
        return absl::InvalidArgumentError(
            absl::StrCat("--model: expected imdb or model; got '", model, "'"));
      },
      {{"model", "NAME", "imdb: imdb.pbtxt's model; model (default): model.pbtxt's"}});
}
