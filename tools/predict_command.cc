// rnnflow predict: run a trained example model on new text, one input per
// line, tokenised by the rules of the prepared directory it was trained on.
#include <cmath>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dataset/example_prepare.h"
#include "rnnflow/dataset/example_text.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/series_forecast.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/example_feed.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

struct Line {
  std::string text;
  std::vector<std::string> tokens;
  std::vector<int32_t> ids;
};

// The class names of a prepared directory, or "0", "1", ... when absent.
std::vector<std::string> ClassNames(const std::string& dir, const std::string& file, int64_t n) {
  std::vector<std::string> names;
  auto v = ExampleVocab::Read(dir + "/" + file, /*specials=*/false);
  for (int64_t i = 0; i < n; ++i) {
    names.push_back(v.ok() && i < v->size() ? v->token(i) : absl::StrCat(i));
  }
  return names;
}

// One output line per input line, from the logits of slot n.
std::string Describe(const ExampleFeeder& feeder, const Tensor& logits, int64_t n, int64_t N,
                     const Line& line, int64_t T, const std::vector<std::string>& classes,
                     const std::vector<std::string>& tags) {
  const std::string& op = feeder.loss_op();
  if (op == "SigmoidCrossEntropy" && !feeder.loss_per_step()) {
    const int64_t k = logits.num_elements() / N;
    std::string out;
    for (int64_t j = 0; j < k; ++j) {
      const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(logits.f32()[n * k + j])));
      const int cls = p >= 0.5 ? 1 : 0;
      const std::string name =
          k == 1 && cls < static_cast<int>(classes.size()) ? classes[cls] : absl::StrCat(cls);
      absl::StrAppendFormat(&out, "%s%s\t%.4f", j ? "\t" : "", name, cls == 1 ? p : 1.0 - p);
    }
    return out;
  }
  if (op == "SoftmaxCrossEntropy") {
    const int64_t v = logits.dim(-1);
    auto best_of = [&](const float* row, double* prob) {
      const int64_t best = std::max_element(row, row + v) - row;
      double sum = 0;
      for (int64_t j = 0; j < v; ++j) sum += std::exp(static_cast<double>(row[j] - row[best]));
      *prob = 1.0 / sum;
      return best;
    };
    if (!feeder.loss_per_step()) {
      double p = 0;
      const int64_t best = best_of(logits.f32() + n * v, &p);
      const std::string name =
          best < static_cast<int64_t>(classes.size()) ? classes[best] : absl::StrCat(best);
      return absl::StrFormat("%s\t%.4f", name, p);
    }
    std::vector<std::string> out;
    const int64_t steps = std::min<int64_t>(T, static_cast<int64_t>(line.tokens.size()));
    for (int64_t t = 0; t < steps; ++t) {
      double p = 0;
      const int64_t best = best_of(logits.f32() + (t * N + n) * v, &p);
      out.push_back(
          absl::StrCat(line.tokens[t], "/",
                       best < static_cast<int64_t>(tags.size()) ? tags[best] : absl::StrCat(best)));
    }
    return absl::StrJoin(out, " ");
  }
  // Regression: the predicted values.
  const int64_t k = logits.num_elements() / N;
  std::vector<std::string> values;
  for (int64_t j = 0; j < k; ++j)
    values.push_back(absl::StrFormat("%.6g", logits.f32()[n * k + j]));
  return absl::StrJoin(values, "\t");
}

bool IsSeriesModel(const Graph& graph) {
  for (const InputDef& in : graph.model().input()) {
    if (in.feed() == SERIES) return true;
  }
  return false;
}

// Forecasting: every input line is one row of the series in original units
// (the prepared columns, comma-separated). Without a horizon each output
// line is the model's forecast of the row after that input line; with
// horizon H, after the last line, H lines: the next H rows (iterated). In
// original units. Stateful models carry the state from line to line, so
// feed the history first (e.g. the CSV's own rows); windowed ones (window W)
// forecast from the last W rows given (fewer while fewer were given).
int PredictSeries(const ParsedFlags& flags, const Graph& graph, const CheckpointData& ckpt,
                  int64_t window, int64_t horizon, std::istream& in, const std::string& source) {
  auto stats = ReadSeriesStats(flags.Get("data"));
  if (!stats.ok()) return Fail(flags, stats.status());
  const int64_t F = static_cast<int64_t>(stats->size());
  auto forecaster = ModelSeriesPredictor::Create(graph, F, window);
  if (!forecaster.ok()) return Fail(flags, forecaster.status());
  if (auto st = RestoreParams(graph, ckpt, (*forecaster)->params()); !st.ok()) {
    return Fail(flags, st);
  }
  std::vector<std::string> names;
  for (const SeriesColumnStats& c : *stats) names.push_back(c.name);
  auto print = [&](absl::Span<const float> next) {
    std::vector<std::string> out;
    for (int64_t c = 0; c < F; ++c) {
      out.push_back(absl::StrFormat("%.6g", next[c] * (*stats)[c].std + (*stats)[c].mean));
    }
    std::cout << absl::StrJoin(out, ",") << "\n";
  };
  std::vector<float> row(F), next(F);
  std::string text;
  int64_t line_no = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::vector<absl::string_view> cells = absl::StrSplit(text, ',');
    int64_t column = 1;  // 1-based byte column of the cell being read
    for (int64_t c = 0; c < F; ++c) {
      double v = 0;
      if (static_cast<int64_t>(cells.size()) != F ||
          !absl::SimpleAtod(absl::StripAsciiWhitespace(cells[c]), &v) || !std::isfinite(v)) {
        return Fail(flags, absl::InvalidArgumentError(
                               absl::StrCat(source, ":", line_no, ":", column, ": expected ", F,
                                            " comma-separated numbers (", absl::StrJoin(names, ","),
                                            ", original units); got '", text, "'")));
      }
      column += static_cast<int64_t>(cells[c].size()) + 1;
      row[c] = static_cast<float>((v - (*stats)[c].mean) / (*stats)[c].std);
    }
    if (auto st = (*forecaster)->Observe(row); !st.ok()) return Fail(flags, st);
    if (horizon > 0) continue;
    if (auto st = (*forecaster)->ForecastAhead(1, absl::MakeSpan(next)); !st.ok()) {
      return Fail(flags, st);
    }
    print(next);
  }
  if (horizon > 0) {
    if (line_no == 0) {
      return Fail(flags, absl::InvalidArgumentError(absl::StrCat(
                             source, ": no rows given to forecast from (one row per line: ",
                             absl::StrJoin(names, ","), ")")));
    }
    std::vector<float> ahead(horizon * F);
    if (auto st = (*forecaster)->ForecastAhead(horizon, absl::MakeSpan(ahead)); !st.ok()) {
      return Fail(flags, st);
    }
    for (int64_t h = 0; h < horizon; ++h) print(absl::MakeConstSpan(ahead.data() + h * F, F));
  }
  return 0;
}

}  // namespace

int RunPredict(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"checkpoint", "PATH", "checkpoint file or directory (its newest valid checkpoint)"},
      {"data", "DIR", "the directory from `rnnflow prepare examples` the model was trained on"},
      {"input", "FILE", "one text per line (default: standard input)"},
      {"T", "STEPS",
       "longest input fed; longer ones keep their first T tokens "
       "(default: training.truncation_steps)"},
      {"N", "BATCH", "lines per batch (default: training.streams_per_worker)"},
      {"echo", "", "append the input text to every output line"},
      {"window", "W",
       "series: forecast from the last W rows given, from a zero state (default: the "
       "checkpoint's training mode; 0: state carried)"},
      {"horizon", "H", "series: after the last row, print the next H rows (iterated)"},
  };
  const std::string usage = Usage(
      "rnnflow predict", "MODEL.pbtxt --checkpoint PATH --data DIR [--input FILE]",
      "Reads one text per line, tokenises it with DIR/rules.tsv and DIR/vocab.tsv (unknown\n"
      "tokens -> <unk>) and prints one line per input:\n"
      "  classification  CLASS<TAB>PROBABILITY (of that class; sigmoid or softmax)\n"
      "  tagging         token/TAG token/TAG ...\n"
      "  regression      the predicted value(s)\n"
      "A forecasting model (fed SERIES; DIR from `rnnflow prepare series`) reads one row per\n"
      "line instead (the prepared columns, comma-separated, original units) and prints its\n"
      "forecast of the next row; the state is carried from line to line (--window W: each\n"
      "forecast from the last W rows). --horizon H prints the H rows after the last line.\n"
      "An empty line gives an empty output line.",
      specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow predict", args, specs, usage, 1, {"checkpoint", "data"},
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
  if (IsSeriesModel(g)) {
    auto window = flags.GetInt("window", TrainedWindow(g, *ckpt));
    auto horizon = flags.GetInt("horizon", 0);
    if (!window.ok() || !horizon.ok() || *window < 0 || (flags.Has("horizon") && *horizon < 1)) {
      return Fail(flags,
                  absl::InvalidArgumentError(
                      "--window expects W >= 1 rows (0: stateful) and --horizon H >= 1 rows"),
                  2);
    }
    if (flags.Has("window") && ckpt->series_window >= 0 && ckpt->series_window != *window) {
      std::cerr << "note: the checkpoint was trained "
                << (ckpt->series_window > 0
                        ? absl::StrCat("on windows of ", ckpt->series_window, " rows")
                        : std::string("stateful"))
                << "; predicting with --window " << *window << "\n";
    }
    const std::string input = flags.Get("input");
    if (input.empty()) {
      return PredictSeries(flags, g, *ckpt, *window, *horizon, std::cin, "<stdin>");
    }
    std::ifstream file(input);
    if (!file) return Fail(flags, absl::NotFoundError(absl::StrCat(input, ": cannot open")));
    return PredictSeries(flags, g, *ckpt, *window, *horizon, file, input);
  }
  if (!IsExampleModel(g)) {
    return Fail(flags,
                absl::InvalidArgumentError(
                    "the model has no EXAMPLE_* or SERIES inputs; `rnnflow predict` runs example "
                    "and forecasting models (use `rnnflow generate` for language models)"));
  }
  for (int id : g.graph_inputs()) {
    if (g.model().input(g.tensor(id).index).feed() == EXAMPLE_TARGET_INPUTS) {
      return Fail(flags, absl::InvalidArgumentError(
                             "the model decodes target sequences (EXAMPLE_TARGET_INPUTS); "
                             "use `rnnflow decode`"));
    }
  }
  const std::string dir = flags.Get("data");
  auto rules = ReadExampleRules(dir);
  if (!rules.ok()) return Fail(flags, rules.status());
  auto vocab = ExampleVocab::Read(dir + "/vocab.tsv", /*specials=*/true);
  if (!vocab.ok()) return Fail(flags, vocab.status());
  auto train = ExampleFile::Open(dir + "/train.ex");
  if (!train.ok()) return Fail(flags, train.status());
  const ExampleFileInfo& info = (*train)->info();
  if (info.features > 0) {
    return Fail(flags,
                absl::UnimplementedError("models fed EXAMPLE_VALUES (float sequences) cannot be "
                                         "predicted from text lines yet"));
  }
  const TrainingDef& tr = g.model().training();
  auto T = flags.GetInt("T", tr.truncation_steps() > 0 ? tr.truncation_steps() : 32);
  auto N = flags.GetInt("N", tr.streams_per_worker() > 0 ? tr.streams_per_worker() : 16);
  if (!T.ok() || !N.ok() || *T < 1 || *N < 1) {
    return Fail(flags, absl::InvalidArgumentError("--T and --N expect positive integers"), 2);
  }
  SessionOptions so;
  so.bindings = {{"T", *T}, {"N", *N}};
  so.training = false;
  auto session = Session::Create(g, so);
  if (!session.ok()) return Fail(flags, session.status());
  if (auto st = RestoreParams(g, *ckpt, (*session)->params()); !st.ok()) {
    return Fail(flags, st);
  }
  auto feeder = ExampleFeeder::Create(**session, info, dir);
  if (!feeder.ok()) return Fail(flags, feeder.status());
  const std::vector<std::string> classes = ClassNames(dir, "labels.tsv", info.num_classes);
  const std::vector<std::string> tags = ClassNames(dir, "tags.tsv", info.num_tags);

  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string input = flags.Get("input");
  if (!input.empty()) {
    file.open(input);
    if (!file) return Fail(flags, absl::NotFoundError(absl::StrCat(input, ": cannot open")));
    in = &file;
  }
  const bool echo = flags.Has("echo");
  const std::string source = input.empty() ? std::string("<stdin>") : input;
  std::vector<Line> batch;
  int64_t line_no = 0;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    std::vector<ExampleRef> refs(*N);
    for (size_t n = 0; n < batch.size(); ++n) {
      if (batch[n].ids.empty()) continue;
      refs[n].present = true;
      refs[n].tokens = batch[n].ids;
    }
    (*feeder)->Fill(refs, /*class_labels=*/true, **session);
    (*session)->ResetStates();
    RF_RETURN_IF_ERROR((*session)->Forward());
    const Tensor logits = (*session)->value((*feeder)->logits_tensor());
    for (size_t n = 0; n < batch.size(); ++n) {
      std::string out = batch[n].ids.empty()
                            ? std::string()
                            : Describe(**feeder, logits, n, *N, batch[n], *T, classes, tags);
      if (echo) absl::StrAppend(&out, "\t", batch[n].text);
      std::cout << out << "\n";
    }
    batch.clear();
    return absl::OkStatus();
  };
  std::string text;
  while (std::getline(*in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    Line line;
    line.text = text;
    int64_t bad = -1;
    auto tokens = Tokenize(text, rules->rules, &bad);
    if (!tokens.ok()) {
      return Fail(flags, absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ":", bad + 1,
                                                                 ": ", tokens.status().message())));
    }
    line.tokens = *std::move(tokens);
    for (const std::string& t : line.tokens) line.ids.push_back(vocab->Find(t, kUnkId));
    batch.push_back(std::move(line));
    if (static_cast<int64_t>(batch.size()) == *N) {
      if (auto st = flush(); !st.ok()) return Fail(flags, st);
    }
  }
  if (auto st = flush(); !st.ok()) return Fail(flags, st);
  return 0;
}

}  // namespace rnnflow
