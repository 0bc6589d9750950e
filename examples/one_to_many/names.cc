// First names for examples/one_to_many (names_model.h):
//
//   one_to_many_names records data/first-names.tsv --out data/first-names.json
//     The `name<TAB>gender` list (scripts/fetch-data first-names) as records
//     for `rnnflow prepare examples`: {"letters": ["<s>", "a", "l", ...],
//     "next": ["a", "l", ..., "</s>"], "gender": "female"}, lowercased.
//   one_to_many_names bigram --data DIR [--split test]
//     The baselines on a prepared directory: bits per letter (</s> included)
//     of a bigram model p(next | previous letter), and of one per gender
//     p(next | previous letter, gender), both counted on train with additive
//     smoothing (its constant chosen on valid).
//   one_to_many_names generate MODEL.pbtxt --checkpoint DIR --data DIR
//       [--gender female|male] [--prime LETTERS] [--count 10]
//       [--temperature 1] [--top-k 0] [--seed 1]
//     Names sampled from a trained model, each starting with --prime.
#include <cctype>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "examples/one_to_many/names_data.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_text.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/generator.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "tools/flags.h"

namespace rnnflow::one_to_many {
namespace {

absl::Status Records(const ParsedFlags& a) {
  RF_ASSIGN_OR_RETURN(int64_t records, WriteNameRecords(a.positional[0], a.Get("out")));
  std::cout << absl::StrFormat("%s: %d names from %s\n", a.Get("out"), records, a.positional[0]);
  return absl::OkStatus();
}

// Counts of (context, next) on a split; context = previous input token
// (x gender when per_gender).
struct Bigram {
  int64_t inputs = 0, outputs = 0;
  bool per_gender = false;
  std::vector<double> counts;  // [context][output]
  std::vector<double> totals;  // [context]

  int64_t Context(int32_t token, int32_t gender) const {
    return per_gender ? gender * inputs + token : token;
  }
  void Count(const ExampleFile& f) {
    const int64_t contexts = inputs * (per_gender ? 2 : 1);
    counts.assign(static_cast<size_t>(contexts * outputs), 0);
    totals.assign(static_cast<size_t>(contexts), 0);
    for (int64_t i = 0; i < f.size(); ++i) {
      auto tokens = f.tokens(i);
      auto tags = f.tags(i);
      for (size_t t = 0; t < tokens.size(); ++t) {
        const int64_t c = Context(tokens[t], f.label(i));
        counts[c * outputs + tags[t]] += 1;
        totals[c] += 1;
      }
    }
  }
  // Bits per output of `f` with additive smoothing `alpha`.
  double Bits(const ExampleFile& f, double alpha) const {
    double bits = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < f.size(); ++i) {
      auto tokens = f.tokens(i);
      auto tags = f.tags(i);
      for (size_t t = 0; t < tokens.size(); ++t) {
        const int64_t c = Context(tokens[t], f.label(i));
        const double p = (counts[c * outputs + tags[t]] + alpha) /
                         (totals[c] + alpha * static_cast<double>(outputs));
        bits -= std::log2(p);
        ++n;
      }
    }
    return n > 0 ? bits / static_cast<double>(n) : 0;
  }
};

absl::Status BigramBaseline(const ParsedFlags& a) {
  const std::string dir = a.Get("data"), split = a.Get("split", "test");
  RF_ASSIGN_OR_RETURN(auto train, ExampleFile::Open(dir + "/train.ex"));
  RF_ASSIGN_OR_RETURN(auto valid, ExampleFile::Open(dir + "/valid.ex"));
  RF_ASSIGN_OR_RETURN(auto eval, ExampleFile::Open(absl::StrCat(dir, "/", split, ".ex")));
  const ExampleFileInfo& info = train->info();
  if (!info.has_tags || info.label_kind != LabelKind::kClass || info.num_classes != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": expected examples with tags and a two-class label (one_to_many_names records)"));
  }
  std::cout << absl::StrFormat("%s, split '%s' (%d names):\n", dir, split, eval->size());
  for (bool per_gender : {false, true}) {
    Bigram b;
    b.inputs = info.vocab_size;
    b.outputs = info.num_tags;
    b.per_gender = per_gender;
    b.Count(*train);
    double best_alpha = 1, best = INFINITY;
    for (double alpha : {0.01, 0.03, 0.1, 0.3, 1.0, 3.0}) {
      const double bits = b.Bits(*valid, alpha);
      if (bits < best) best = bits, best_alpha = alpha;
    }
    std::cout << absl::StrFormat("  bigram%s: %.3f bits per letter (smoothing %.2f)\n",
                                 per_gender ? " per gender" : "", b.Bits(*eval, best_alpha),
                                 best_alpha);
  }
  return absl::OkStatus();
}

absl::Status Generate(const ParsedFlags& a) {
  const std::string dir = a.Get("data");
  RF_ASSIGN_OR_RETURN(Graph graph, LoadGraph(a.positional[0]));
  std::vector<std::string> warnings;
  RF_ASSIGN_OR_RETURN(CheckpointData ckpt,
                      LoadCheckpointFor(graph, a.Get("checkpoint"), &warnings));
  Warn(warnings);
  std::vector<Tensor> params;
  for (const CheckpointTensor& t : ckpt.params) {
    params.emplace_back(FLOAT32, t.shape, const_cast<float*>(t.values.data()));
  }
  RF_ASSIGN_OR_RETURN(auto generator, Generator::Create(graph, params));
  RF_ASSIGN_OR_RETURN(ExampleVocab vocab, ExampleVocab::Read(dir + "/vocab.tsv", true));
  RF_ASSIGN_OR_RETURN(ExampleVocab tags, ExampleVocab::Read(dir + "/tags.tsv", false));
  RF_ASSIGN_OR_RETURN(ExampleVocab genders, ExampleVocab::Read(dir + "/labels.tsv", false));
  const std::string gender = a.Get("gender", "female");
  auto gender_input = generator->session().input("gender");
  if (gender_input.ok()) {
    const int32_t g = genders.Find(gender, -1);
    if (g < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--gender '", gender, "' is not in ", dir, "/labels.tsv"));
    }
    gender_input->f32()[0] = static_cast<float>(g);
  } else if (a.Has("gender")) {
    return absl::InvalidArgumentError(
        absl::StrCat(a.positional[0], " has no `gender` input (an unconditioned model)"));
  }
  // Outputs (tags) are fed back as the input ids of the same letters.
  std::vector<int32_t> feed_back(static_cast<size_t>(tags.size()));
  for (int64_t o = 0; o < tags.size(); ++o) feed_back[o] = vocab.Find(tags.token(o), -1);
  const int32_t stop = tags.Find("</s>", -1);
  const std::string prime = a.Get("prime");
  std::vector<int32_t> prime_ids = {vocab.Find("<s>", -1)};
  for (char c : prime) {
    prime_ids.push_back(vocab.Find(std::string(1, static_cast<char>(std::tolower(c))), -1));
    if (prime_ids.back() < 0 || prime_ids.back() == kUnkId) {
      return absl::InvalidArgumentError(
          absl::StrCat("--prime: '", std::string(1, c), "' is not in ", dir, "/vocab.tsv"));
    }
  }
  if (prime_ids[0] < 0 || stop < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, " lacks <s> or </s>: prepare it from `one_to_many_names records` output"));
  }
  RF_ASSIGN_OR_RETURN(int64_t count, a.GetInt("count", 10));
  RF_ASSIGN_OR_RETURN(int64_t top_k, a.GetInt("top-k", 0));
  RF_ASSIGN_OR_RETURN(int64_t seed, a.GetInt("seed", 1));
  RF_ASSIGN_OR_RETURN(double temperature, a.GetDouble("temperature", 1.0));
  SampleOptions o;
  o.length = 30;
  o.top_k = static_cast<int>(top_k);
  o.temperature = static_cast<float>(temperature);
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) {
    o.seed = static_cast<uint64_t>(seed + i);
    RF_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                        generator->GenerateIds(prime_ids, feed_back, stop, o));
    std::string name;
    for (char c : prime) name.push_back(static_cast<char>(std::tolower(c)));
    for (int32_t id : ids) {
      if (id != stop) name += tags.token(id);
    }
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(name[0]));
    names.push_back(name);
  }
  std::cout << absl::StrJoin(names, " ") << "\n";
  return absl::OkStatus();
}

int RunRecords(const std::vector<std::string>& args) {
  return RunCommand("one_to_many_names records", args, "FILE.tsv --out FILE.json",
                    "The `name<TAB>gender` list (scripts/fetch-data first-names) as records for\n"
                    "`rnnflow prepare examples`, lowercased.",
                    {{"out", "FILE.json", "the records"}}, 1, {"out"}, Records);
}

int RunBigram(const std::vector<std::string>& args) {
  return RunCommand("one_to_many_names bigram", args, "--data DIR [--split test]",
                    "Bits per letter (</s> included) of a bigram model p(next | previous letter),\n"
                    "and of one per gender, counted on train with additive smoothing chosen on "
                    "valid.",
                    {{"data", "DIR", "a directory from `rnnflow prepare examples`"},
                     {"split", "NAME", "the split scored (default test)"}},
                    0, {"data"}, BigramBaseline);
}

int RunGenerate(const std::vector<std::string>& args) {
  return RunCommand(
      "one_to_many_names generate", args, "MODEL.pbtxt --checkpoint DIR --data DIR [flags]",
      "Names sampled from a trained model, each starting with --prime.",
      {{"checkpoint", "PATH", "checkpoint file or directory (its newest valid one)"},
       {"data", "DIR", "the prepared directory the model was trained on"},
       {"gender", "NAME", "female (default) or male; conditioned models only"},
       {"prime", "LETTERS", "the start of every name"},
       {"count", "N", "names to sample (default 10)"},
       {"temperature", "X", "sampling temperature (default 1)", "SampleOptions::temperature"},
       {"top-k", "K", "sample among the K most likely (default 0: all)", "SampleOptions::top_k"},
       {"seed", "S", "the first name's sampling seed (default 1)"}},
      1, {"checkpoint", "data"}, Generate);
}

}  // namespace
}  // namespace rnnflow::one_to_many

int main(int argc, char** argv) {
  using namespace rnnflow::one_to_many;  // NOLINT(build/namespaces)
  return rnnflow::RunVerbs(
      "one_to_many_names",
      {{"records", RunRecords, "the name list as records for `rnnflow prepare examples`"},
       {"bigram", RunBigram, "the bigram baselines' bits per letter"},
       {"generate", RunGenerate, "names sampled from a trained model"}},
      argc, argv);
}
