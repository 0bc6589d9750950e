// rnnflow decode: output sequences of a trained pairs model (seq2seq), by
// greedy or beam search (inference/beam_search.h) with the decoder compiled
// once for T = 1 (inference/seq2seq_decoder.h); with --eval, the token error
// rate and sequence accuracy on a prepared split, greedy and beam side by
// side.
#include <chrono>
#include <fstream>
#include <iostream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_file.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dataset/example_text.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/edit_distance.h"
#include "rnnflow/inference/seq2seq_decoder.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "rnnflow/training/example_feed.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

struct EvalResult {
  ErrorRate rate;
  double seconds = 0;
};

// Distinct sources of a split with every target each one has (alternates).
struct SplitSources {
  std::vector<std::vector<int32_t>> sources;
  std::vector<std::vector<std::vector<int32_t>>> references;
};

SplitSources GroupSources(const ExampleFile& file, int64_t limit) {
  SplitSources s;
  absl::flat_hash_map<std::string, size_t> index;
  for (int64_t i = 0; i < file.size(); ++i) {
    const auto tokens = file.tokens(i);
    const std::string key(reinterpret_cast<const char*>(tokens.data()),
                          tokens.size() * sizeof(int32_t));
    auto [it, inserted] = index.emplace(key, s.sources.size());
    if (inserted) {
      if (limit > 0 && static_cast<int64_t>(s.sources.size()) >= limit) {
        index.erase(it);
        continue;
      }
      s.sources.emplace_back(tokens.begin(), tokens.end());
      s.references.emplace_back();
    }
    const auto targets = file.targets(i);
    s.references[it->second].emplace_back(targets.begin(), targets.end());
  }
  return s;
}

absl::StatusOr<EvalResult> Evaluate(Seq2SeqDecoder& decoder, const SplitSources& split,
                                    const DecodeOptions& options) {
  EvalResult r;
  const auto start = std::chrono::steady_clock::now();
  RF_ASSIGN_OR_RETURN(std::vector<Hypothesis> best, DecodeAll(decoder, split.sources, options));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t i = 0; i < best.size(); ++i) r.rate.Add(best[i].tokens, split.references[i]);
  return r;
}

// The baseline of --eval: each source gets the first target of the
// training source closest to it by edit distance (ties: the first in file
// order). Lengths differ by at most the distance, so the search visits
// training sources by increasing length difference and stops early.
EvalResult NearestNeighbour(const SplitSources& train, const SplitSources& split) {
  EvalResult r;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<size_t>> by_length;
  for (size_t i = 0; i < train.sources.size(); ++i) {
    const size_t len = train.sources[i].size();
    if (by_length.size() <= len) by_length.resize(len + 1);
    by_length[len].push_back(i);
  }
  const int64_t longest = static_cast<int64_t>(by_length.size()) - 1;
  for (size_t q = 0; q < split.sources.size(); ++q) {
    const std::vector<int32_t>& x = split.sources[q];
    const int64_t len = static_cast<int64_t>(x.size());
    int64_t best = -1;
    size_t best_i = 0;
    for (int64_t diff = 0; diff <= std::max(len, longest); ++diff) {
      if (best >= 0 && diff >= best) break;
      for (int64_t l : {len - diff, len + diff}) {
        if (l < 0 || l > longest || (diff == 0 && l != len)) continue;
        for (size_t i : by_length[l]) {
          const int64_t d = EditDistance(x, train.sources[i]);
          if (best < 0 || d < best || (d == best && i < best_i)) {
            best = d;
            best_i = i;
          }
        }
        if (diff == 0) break;
      }
    }
    static const std::vector<int32_t> kEmpty;
    r.rate.Add(best < 0 ? kEmpty : train.references[best_i][0], split.references[q]);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string Names(const ExampleVocab& vocab, absl::Span<const int32_t> ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(id < vocab.size() ? vocab.token(id) : absl::StrCat(id));
  return absl::StrJoin(out, " ");
}

}  // namespace

int RunDecode(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"checkpoint", "PATH", "checkpoint file or directory (its newest valid checkpoint)"},
      {"data", "DIR", "the directory from `rnnflow prepare examples` the model was trained on"},
      {"beam", "K", "beam width; 1 = greedy (default 1)", "DecodeOptions::beam"},
      {"alpha", "A", "length normalisation: rank by log-prob / length^A (default 0)",
       "DecodeOptions::alpha"},
      {"max-length", "L", "longest output, end symbol included (default: training T)",
       "DecodeOptions::max_length"},
      {"source-steps", "S",
       "longest source fed; longer ones keep their first S tokens (default: a source time "
       "symbol's longest source of the --eval split or of DIR/train.ex; else "
       "training.truncation_steps)"},
      {"N", "BATCH", "sources per batch (default 64)"},
      {"eval", "SPLIT", "score DIR/SPLIT.ex (train, valid or test) instead of reading inputs"},
      {"limit", "N", "with --eval: the first N distinct sources only"},
      {"input", "FILE", "one source per line (default: standard input)"},
      {"uppercase", "", "map a-z to A-Z before tokenising (CMUdict words are capitals)"},
      {"nbest", "N", "print the N best hypotheses with their log-probabilities",
       "DecodeOptions::nbest"},
      {"baseline", "", "with --eval: also score the nearest training source's target"},
  };
  const std::string usage =
      Usage("rnnflow decode", "MODEL.pbtxt --checkpoint PATH --data DIR [--beam K] [--eval SPLIT]",
            "For a pairs model (EXAMPLE_TOKENS + EXAMPLE_TARGET_* inputs): runs the encoder once\n"
            "per batch and the decoder step by step (compiled once for T = 1), greedy or beam\n"
            "search. Reads one source per line, tokenised with DIR/rules.tsv, and prints the\n"
            "output tokens (DIR/target_vocab.tsv). With --eval SPLIT prints the token error rate\n"
            "(edit distance / reference tokens; a source with several targets is scored against\n"
            "the closest) and sequence accuracy, greedy and, when --beam > 1, beam search.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow decode", args, specs, usage, 1, {"checkpoint", "data"},
                                   &flags)) {
    return *exit;
  }
  auto graph = LoadGraph(flags.positional[0]);
  if (!graph.ok()) return Fail(flags, graph.status());
  const Graph& g = *graph;
  std::vector<std::string> warnings;
  auto ckpt = LoadCheckpointFor(g, flags.Get("checkpoint"), &warnings);
  Warn(warnings);
  if (!ckpt.ok()) return Fail(flags, ckpt.status());
  const TrainingDef& tr = g.model().training();
  const int64_t default_t = tr.truncation_steps() > 0 ? tr.truncation_steps() : 32;
  // The encoder's steps: a source with its own time symbol (S) is bound to
  // the longest source of what is decoded, as in training.
  int64_t default_s = default_t;
  const std::string dir = flags.Get("data");
  if (SourceTimeSymbol(g) != kDefaultTimeSymbol && !flags.Has("source-steps")) {
    auto file = ExampleFile::Open(
        absl::StrCat(dir, "/", flags.Has("eval") ? flags.Get("eval") : "train", ".ex"));
    if (!file.ok()) return Fail(flags, file.status());
    default_s = std::max<int64_t>(1, LongestSource(**file));
  }
  auto T = flags.GetInt("source-steps", default_s);
  auto N = flags.GetInt("N", 64);
  auto beam = flags.GetInt("beam", 1);
  auto max_length = flags.GetInt("max-length", default_t);
  auto limit = flags.GetInt("limit", 0);
  auto nbest = flags.GetInt("nbest", 1);
  auto alpha = flags.GetDouble("alpha", 0.0);
  for (const absl::Status& st : {T.status(), N.status(), beam.status(), max_length.status(),
                                 limit.status(), nbest.status(), alpha.status()}) {
    if (!st.ok()) return Fail(flags, st, 2);
  }
  if (*T < 1 || *N < 1 || *beam < 1 || *max_length < 1 || *nbest < 1 || *nbest > *beam) {
    return Fail(flags,
                absl::InvalidArgumentError(
                    "--source-steps, --N, --beam, --max-length must be positive and 1 <= --nbest "
                    "<= --beam"),
                2);
  }
  std::vector<Tensor> params(g.params().size());
  std::vector<std::vector<float>> storage(g.params().size());
  for (size_t p = 0; p < params.size(); ++p) {
    storage[p].resize(NumElements(g.params()[p].shape));
    params[p] = Tensor(FLOAT32, g.params()[p].shape, storage[p].data());
  }
  if (auto st = RestoreParams(g, *ckpt, params); !st.ok()) return Fail(flags, st);
  auto target_vocab = ExampleVocab::Read(dir + "/target_vocab.tsv", /*specials=*/true);
  if (!target_vocab.ok()) return Fail(flags, target_vocab.status());
  DecodeOptions options;
  options.max_length = *max_length;
  options.alpha = *alpha;
  options.nbest = static_cast<int>(*nbest);

  if (flags.Has("eval")) {
    const std::string split = flags.Get("eval");
    auto file = ExampleFile::Open(absl::StrCat(dir, "/", split, ".ex"));
    if (!file.ok()) return Fail(flags, file.status());
    if (!(*file)->info().has_targets) {
      return Fail(flags, absl::InvalidArgumentError(absl::StrCat(
                             (*file)->path(), " has no target sequences (not pairs)")));
    }
    const SplitSources sources = GroupSources(**file, *limit);
    std::cout << absl::StrFormat("%s: %d examples, %d distinct sources scored\n", (*file)->path(),
                                 (*file)->size(), sources.sources.size());
    std::cout << absl::StrFormat("%-12s %10s %10s %10s %12s\n", "decoding", "error rate",
                                 "accuracy", "seconds", "sources/s");
    std::vector<int64_t> widths = {1};
    if (*beam > 1) widths.push_back(*beam);
    auto print = [&](const std::string& name, const EvalResult& r) {
      std::cout << absl::StrFormat("%-12s %9.2f%% %9.2f%% %10.2f %12.0f\n", name,
                                   100 * r.rate.token_error_rate(),
                                   100 * r.rate.sequence_accuracy(), r.seconds,
                                   r.seconds > 0 ? sources.sources.size() / r.seconds : 0.0);
    };
    if (flags.Has("baseline")) {
      auto train = ExampleFile::Open(dir + "/train.ex");
      if (!train.ok()) return Fail(flags, train.status());
      print("nearest", NearestNeighbour(GroupSources(**train, 0), sources));
    }
    for (int64_t k : widths) {
      auto decoder = Seq2SeqDecoder::Create(g, params, *T, *N, static_cast<int>(k));
      if (!decoder.ok()) return Fail(flags, decoder.status());
      auto r = Evaluate(**decoder, sources, options);
      if (!r.ok()) return Fail(flags, r.status());
      print(k == 1 ? std::string("greedy") : absl::StrCat("beam ", k), *r);
    }
    return 0;
  }

  auto rules = ReadExampleRules(dir);
  if (!rules.ok()) return Fail(flags, rules.status());
  auto vocab = ExampleVocab::Read(dir + "/vocab.tsv", /*specials=*/true);
  if (!vocab.ok()) return Fail(flags, vocab.status());
  auto decoder = Seq2SeqDecoder::Create(g, params, *T, *N, static_cast<int>(*beam));
  if (!decoder.ok()) return Fail(flags, decoder.status());
  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string input = flags.Get("input");
  if (!input.empty()) {
    file.open(input);
    if (!file) return Fail(flags, absl::NotFoundError(absl::StrCat(input, ": cannot open")));
    in = &file;
  }
  const std::string source_name = input.empty() ? std::string("<stdin>") : input;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    RF_RETURN_IF_ERROR((*decoder)->Encode(batch));
    options.beam = static_cast<int>(*beam);
    std::vector<std::vector<Hypothesis>> results;
    if (*beam == 1) {
      RF_ASSIGN_OR_RETURN(auto best, GreedyDecode(**decoder, *N, options));
      for (Hypothesis& h : best) results.push_back({std::move(h)});
    } else {
      RF_ASSIGN_OR_RETURN(results, BeamSearch(**decoder, *N, options));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].empty()) {
        std::cout << texts[i] << "\t\n";
        continue;
      }
      for (size_t j = 0; j < results[i].size(); ++j) {
        const Hypothesis& h = results[i][j];
        std::cout << texts[i] << "\t" << Names(*target_vocab, h.tokens);
        if (*nbest > 1) std::cout << absl::StrFormat("\t%.4f", h.log_prob);
        std::cout << "\n";
      }
    }
    batch.clear();
    texts.clear();
    return absl::OkStatus();
  };
  std::string text;
  int64_t line_no = 0;
  while (std::getline(*in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::string word = flags.Has("uppercase") ? absl::AsciiStrToUpper(text) : text;
    int64_t bad = -1;
    auto tokens = Tokenize(word, rules->rules, &bad);
    if (!tokens.ok()) {
      return Fail(flags,
                  absl::InvalidArgumentError(absl::StrCat(source_name, ":", line_no, ":", bad + 1,
                                                          ": ", tokens.status().message())));
    }
    std::vector<int32_t> ids;
    for (const std::string& t : *tokens) ids.push_back(vocab->Find(t, kUnkId));
    texts.push_back(text);
    batch.push_back(std::move(ids));
    if (static_cast<int64_t>(batch.size()) == *N) {
      if (auto st = flush(); !st.ok()) return Fail(flags, st);
    }
  }
  if (auto st = flush(); !st.ok()) return Fail(flags, st);
  return 0;
}

}  // namespace rnnflow
