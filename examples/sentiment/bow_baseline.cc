// The bag-of-words baseline for examples/sentiment: binary logistic
// regression on which vocabulary words an example contains, trained on the
// train split of a directory from `rnnflow prepare examples` and measured on
// its valid and test splits (the same examples the LSTM sees).
//
//   build/sentiment_bow_baseline DIR [--epochs E]
//
// Features: x_w = 1 if word id w occurs in the example (any number of
// times), scaled by 1 / sqrt(number of distinct words) so long reviews do not
// dominate; <pad> never occurs, <unk> is a feature like any word. Training:
// SGD over shuffled examples (fixed seed), learning rate 0.5 decaying as
// 1 / (1 + epoch), L2 penalty chosen from {0, 1e-5, 1e-4, 1e-3} by valid
// accuracy; the test accuracy is of that choice. Prints one line per L2 and
// the chosen result.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rnnflow/dataset/example_file.h"
#include "tools/flags.h"

namespace {

using rnnflow::ExampleFile;

// Distinct word ids of every example, and their labels.
struct Split {
  std::vector<std::vector<int32_t>> words;
  std::vector<int> labels;
};

Split Load(const ExampleFile& f) {
  Split s;
  for (int64_t i = 0; i < f.size(); ++i) {
    auto t = f.tokens(i);
    std::vector<int32_t> w(t.begin(), t.end());
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    s.words.push_back(std::move(w));
    s.labels.push_back(f.label(i));
  }
  return s;
}

struct Model {
  std::vector<double> w;
  double b = 0;
  double Logit(const std::vector<int32_t>& words) const {
    const double scale = 1.0 / std::sqrt(static_cast<double>(words.size()));
    double z = b;
    for (int32_t id : words) z += w[id] * scale;
    return z;
  }
};

double Accuracy(const Model& m, const Split& s) {
  if (s.words.empty()) return 0;
  int64_t hits = 0;
  for (size_t i = 0; i < s.words.size(); ++i)
    hits += (m.Logit(s.words[i]) > 0) == (s.labels[i] == 1);
  return static_cast<double>(hits) / s.words.size();
}

Model Train(const Split& train, int64_t vocab, double l2, int epochs) {
  Model m;
  m.w.assign(vocab, 0.0);
  std::vector<size_t> order(train.words.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(12345);
  for (int e = 0; e < epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    const double lr = 0.5 / (1.0 + e);
    for (size_t i : order) {
      const std::vector<int32_t>& words = train.words[i];
      const double p = 1.0 / (1.0 + std::exp(-m.Logit(words)));
      const double g = p - (train.labels[i] == 1 ? 1.0 : 0.0);
      const double scale = 1.0 / std::sqrt(static_cast<double>(words.size()));
      for (int32_t id : words) m.w[id] -= lr * (g * scale + l2 * m.w[id]);
      m.b -= lr * g;
    }
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = "sentiment_bow_baseline";
  const std::vector<rnnflow::FlagSpec> specs = {
      {"epochs", "E", "SGD passes over the train split (default 10)"}};
  rnnflow::ParsedFlags flags;
  if (auto exit = rnnflow::ParseCommandLine(
          command, std::vector<std::string>(argv + 1, argv + argc), specs,
          rnnflow::Usage(command, "DIR [--epochs E]",
                         "Binary logistic regression on the words of each example of DIR (from\n"
                         "`rnnflow prepare examples`): accuracy on valid and test.",
                         specs),
          1, {}, &flags)) {
    return *exit;
  }
  const std::string dir = flags.positional[0];
  auto epochs = flags.GetInt("epochs", 10);
  if (!epochs.ok()) return rnnflow::Fail(flags, epochs.status(), 2);
  Split splits[3];
  int64_t vocab = 0;
  const char* names[3] = {"train", "valid", "test"};
  for (int s = 0; s < 3; ++s) {
    auto f = ExampleFile::Open(dir + "/" + names[s] + ".ex");
    if (!f.ok()) return rnnflow::Fail(flags, f.status());
    if ((*f)->info().label_kind != rnnflow::LabelKind::kClass || (*f)->info().num_classes != 2) {
      return rnnflow::Fail(flags, absl::InvalidArgumentError(absl::StrCat(
                                      (*f)->path(), ": needs two classes (0/1 labels)")));
    }
    vocab = (*f)->info().vocab_size;
    splits[s] = Load(**f);
  }
  double best_valid = -1, best_test = 0, best_l2 = 0;
  for (double l2 : {0.0, 1e-5, 1e-4, 1e-3}) {
    const Model m = Train(splits[0], vocab, l2, static_cast<int>(*epochs));
    const double train = Accuracy(m, splits[0]), valid = Accuracy(m, splits[1]),
                 test = Accuracy(m, splits[2]);
    std::printf("l2 %-6g train %.4f  valid %.4f  test %.4f\n", l2, train, valid, test);
    if (valid > best_valid) {
      best_valid = valid;
      best_test = test;
      best_l2 = l2;
    }
  }
  std::printf(
      "bag-of-words logistic regression (l2 %g chosen on valid): valid %.4f, test %.4f "
      "(%zu / %zu / %zu examples)\n",
      best_l2, best_valid, best_test, splits[0].words.size(), splits[1].words.size(),
      splits[2].words.size());
  return 0;
}
