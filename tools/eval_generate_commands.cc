// rnnflow eval / generate: use a trained checkpoint.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dataset/documents.h"
#include "rnnflow/dataset/token_streams.h"
#include "rnnflow/graph/model_loader.h"
#include "rnnflow/inference/generator.h"
#include "rnnflow/inference/series_forecast.h"
#include "rnnflow/runtime/checkpoint.h"
#include "rnnflow/runtime/graph_checkpoint.h"
#include "rnnflow/runtime/session.h"
#include "rnnflow/training/example_batch_source.h"
#include "rnnflow/training/example_feed.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

int FeedInput(const Graph& graph, Feed feed) {
  for (int id : graph.graph_inputs()) {
    if (graph.model().input(graph.tensor(id).index).feed() == feed) return id;
  }
  return -1;
}

// One line of figures: the model beside persistence and seasonal naive.
std::string MetricsLine(const ForecastColumnMetrics& m, int64_t season) {
  std::string line = absl::StrFormat("model RMSE %.6g MAE %.6g | persistence RMSE %.6g MAE %.6g",
                                     m.rmse, m.mae, m.persistence_rmse, m.persistence_mae);
  if (season > 0) {
    absl::StrAppendFormat(&line, " | seasonal-naive (%d rows) RMSE %.6g MAE %.6g", season,
                          m.seasonal_rmse, m.seasonal_mae);
  }
  absl::StrAppendFormat(&line, " | RMSE / persistence RMSE %.4f",
                        m.persistence_rmse > 0 ? m.rmse / m.persistence_rmse : 0.0);
  return line;
}

// Series models: forecasts 1..H rows ahead in original units beside the
// persistence and seasonal-naive baselines (inference/series_forecast.h),
// stateful or from windows of W rows (inference/series_predictors.h).
int EvalSeries(const Graph& graph, const CheckpointData& ckpt, const ParsedFlags& flags) {
  const std::string dir = flags.Get("data");
  const std::string split_name = flags.Get("split", "valid");
  auto split = SeriesSplitIndex(split_name);
  auto season = flags.GetInt("season", 0);
  auto warmup = flags.GetInt("warmup", -1);
  // The mode the checkpoint was trained in, unless --window says otherwise.
  auto window = flags.GetInt("window", TrainedWindow(graph, ckpt));
  auto horizon = flags.GetInt("horizon", 1);
  if (!split.ok()) return Fail(flags, split.status(), 2);
  for (const auto* v : {&season, &warmup, &window, &horizon}) {
    if (!v->ok()) return Fail(flags, v->status(), 2);
  }
  if (*window < 0) {
    return Fail(flags,
                absl::InvalidArgumentError(
                    absl::StrCat("--window must be >= 1 rows (0: stateful); got ", *window)),
                2);
  }
  if (*horizon < 1) {
    return Fail(
        flags,
        absl::InvalidArgumentError(absl::StrCat("--horizon must be >= 1 rows; got ", *horizon)), 2);
  }
  auto file = SeriesFile::Open(dir + "/series.f32");
  if (!file.ok()) return Fail(flags, file.status());
  ForecastOptions options;
  options.season = *season;
  options.warmup_rows = *warmup;
  options.horizon = *horizon;
  options.forecasts_path = flags.Get("forecasts");
  if (auto stats = ReadSeriesStats(dir); stats.ok()) {
    for (const SeriesColumnStats& c : *stats) options.column_names.push_back(c.name);
  }
  if (flags.Has("window") && ckpt.series_window >= 0 && ckpt.series_window != *window) {
    std::cout << absl::StrFormat(
        "note: the checkpoint was trained %s; evaluating with --window %d\n",
        ckpt.series_window > 0 ? absl::StrFormat("on windows of %d rows", ckpt.series_window)
                               : std::string("stateful"),
        *window);
  }
  auto predictor = ModelSeriesPredictor::Create(graph, (*file)->columns(), *window);
  if (!predictor.ok()) return Fail(flags, predictor.status());
  if (auto st = RestoreParams(graph, ckpt, (*predictor)->params()); !st.ok()) {
    return Fail(flags, st);
  }
  auto report = EvaluateSeriesForecasts(**file, *split, **predictor, options);
  if (!report.ok()) return Fail(flags, report.status());
  const std::string mode =
      *window > 0 ? absl::StrFormat("each from a zero state over the last %d rows", *window)
                  : std::string("state carried through the series");
  std::cout << absl::StrFormat(
      "%s split '%s' at step %d: %d %s forecasts (rows [%d, %d); %s), original units\n", dir,
      split_name, ckpt.step, report->positions,
      *horizon > 1 ? absl::StrFormat("origins of 1..%d-step-ahead (iterated)", *horizon)
                   : std::string("one-step-ahead"),
      report->first_row, report->end_row, mode);
  for (size_t c = 0; c < report->columns.size(); ++c) {
    if (*horizon == 1) {
      std::cout << "  " << report->columns[c].name << ": "
                << MetricsLine(report->columns[c], report->season) << "\n";
      continue;
    }
    std::cout << "  " << report->columns[c].name << ":\n";
    for (const ForecastHorizonMetrics& h : report->horizons) {
      std::cout << absl::StrFormat("    h=%d (%d forecasts): ", h.horizon, h.positions)
                << MetricsLine(h.columns[c], report->season) << "\n";
    }
  }
  if (!options.forecasts_path.empty()) {
    std::cout << "forecasts: " << options.forecasts_path << "\n";
  }
  return 0;
}

// Example models: loss and accuracy on a split of a prepared directory,
// beside the majority class of the train split (class labels).
int EvalExamples(const Graph& graph, const CheckpointData& ckpt, const ParsedFlags& flags) {
  const std::string dir = flags.Get("data");
  const std::string split = flags.Get("split", "valid");
  const TrainingDef& tr = graph.model().training();
  auto T = flags.GetInt("T", tr.truncation_steps() > 0 ? tr.truncation_steps() : 32);
  auto N = flags.GetInt("N", tr.streams_per_worker() > 0 ? tr.streams_per_worker() : 16);
  auto max_batches = flags.GetInt("max-chunks", 0);
  auto S = flags.GetInt("source-steps", 0);
  for (const auto* v : {&T, &N, &max_batches, &S}) {
    if (!v->ok()) return Fail(flags, v->status(), 2);
  }
  auto file = ExampleFile::Open(dir + "/" + split + ".ex");
  if (!file.ok()) return Fail(flags, file.status());
  auto bindings = ExampleTimeBindings(graph, *T, *S, LongestSource(**file));
  if (!bindings.ok()) return Fail(flags, bindings.status());
  SessionOptions so;
  so.bindings = *std::move(bindings);
  so.bindings["N"] = *N;
  so.training = false;
  auto session = Session::Create(graph, so);
  if (!session.ok()) return Fail(flags, session.status());
  if (auto st = RestoreParams(graph, ckpt, (*session)->params()); !st.ok()) {
    return Fail(flags, st);
  }
  auto feeder = ExampleFeeder::Create(**session, (*file)->info(), dir);
  if (!feeder.ok()) return Fail(flags, feeder.status());
  auto ev = EvaluateExamples(**session, **feeder, **file, *max_batches);
  if (!ev.ok()) return Fail(flags, ev.status());
  std::cout << absl::StrFormat("%s split '%s' at step %d: %d examples, loss %.4f", dir, split,
                               ckpt.step, ev->examples, ev->loss);
  if (ev->has_accuracy) {
    std::cout << absl::StrFormat(", accuracy %.4f (%d/%d)", ev->score.accuracy(), ev->score.correct,
                                 ev->score.total);
  }
  std::cout << "\n";
  if (ev->truncated > 0) {
    const int64_t steps = (*feeder)->source_steps();
    std::cout << absl::StrFormat(
        "  %d examples longer than %d steps were cut to their first %d "
        "tokens\n",
        ev->truncated, steps, steps);
  }
  if (ev->target_truncated > 0) {
    std::cout << absl::StrFormat("  %d targets + end longer than T=%d were cut to %d steps\n",
                                 ev->target_truncated, *T, *T);
  }
  auto train = ExampleFile::Open(dir + "/train.ex");
  if (train.ok() && (*train)->info().label_kind == LabelKind::kClass &&
      (*file)->info().label_kind == LabelKind::kClass && (*file)->size() > 0) {
    std::vector<int64_t> counts((*train)->info().num_classes, 0);
    for (int64_t i = 0; i < (*train)->size(); ++i) ++counts[(*train)->label(i)];
    const int64_t majority = std::max_element(counts.begin(), counts.end()) - counts.begin();
    int64_t hits = 0;
    for (int64_t i = 0; i < (*file)->size(); ++i) hits += (*file)->label(i) == majority;
    std::cout << absl::StrFormat("  majority class of train (%d): accuracy %.4f on this split\n",
                                 majority, static_cast<double>(hits) / (*file)->size());
  }
  return 0;
}

}  // namespace

int RunEval(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"checkpoint", "PATH", "checkpoint file or directory (its newest valid checkpoint)"},
      {"data", "PATH", "prepared directory or raw text file"},
      {"split", "NAME", "train, valid (default) or test"},
      {"T", "STEPS", "steps per chunk (default: training.truncation_steps)"},
      {"N", "STREAMS", "streams (default: training.streams_per_worker)"},
      {"max-chunks", "K", "stop after K chunks (default: the whole split)"},
      {"source-steps", "S", "pairs with a source time symbol: its steps (default: the longest)"},
      {"season", "K", "series: also score the seasonal-naive forecast (the value K rows ago)",
       "ForecastOptions::season"},
      {"forecasts", "FILE.csv", "series: write row, actual, forecast, persistence per column",
       "ForecastOptions::forecasts_path"},
      {"warmup", "ROWS", "series: history rows fed before the split (default: all)",
       "ForecastOptions::warmup_rows"},
      {"window", "W",
       "series: forecast each row from a zero state over the W rows before it (default: the "
       "checkpoint's training mode; 0: state carried)"},
      {"horizon", "H",
       "series: forecast 1..H rows ahead from every origin, feeding forecasts back (default 1)",
       "ForecastOptions::horizon"},
  };
  const std::string usage =
      Usage("rnnflow eval", "MODEL.pbtxt --checkpoint PATH --data PATH [--split valid]",
            "Mean loss per token, perplexity and bits per token of a trained "
            "model on a split,\n"
            "reading it as N contiguous streams with the state carried from "
            "chunk to chunk.\n"
            "Models fed SERIES (a directory from `rnnflow prepare series`): "
            "RMSE and MAE of the\n"
            "one-step-ahead forecasts in the columns' original units, beside "
            "persistence (the last\n"
            "value) and, with --season K, seasonal-naive (the value K rows "
            "ago), on the same rows; --horizon H scores 1..H steps ahead, --window W forecasts\n"
            "from windows of W rows (default: as the checkpoint was trained).\n"
            "Models fed EXAMPLE_* (a directory from `rnnflow prepare examples`): mean loss and\n"
            "accuracy over the split's examples in batches of N (--max-chunks: batches), beside\n"
            "the train split's majority class.",
            specs);
  ParsedFlags flags;
  if (auto exit =
          ParseCommandLine("rnnflow eval", args, specs, usage, 1, {"checkpoint", "data"}, &flags)) {
    return *exit;
  }
  auto graph = LoadGraph(flags.positional[0]);
  if (!graph.ok()) return Fail(flags, graph.status());
  const Graph& g = *graph;
  std::vector<std::string> warnings;
  auto ckpt = LoadCheckpointFor(g, flags.Get("checkpoint"), &warnings);
  Warn(warnings);
  if (!ckpt.ok()) return Fail(flags, ckpt.status());
  if (FeedInput(g, SERIES) >= 0) return EvalSeries(g, *ckpt, flags);
  if (IsExampleModel(g)) return EvalExamples(g, *ckpt, flags);
  const TrainingDef& tr = g.model().training();
  auto T = flags.GetInt("T", tr.truncation_steps() > 0 ? tr.truncation_steps() : 32);
  auto N = flags.GetInt("N", tr.streams_per_worker() > 0 ? tr.streams_per_worker() : 16);
  auto max_chunks = flags.GetInt("max-chunks", -1);
  for (const auto* v : {&T, &N, &max_chunks}) {
    if (!v->ok()) return Fail(flags, v->status(), 2);
  }
  const int tokens = FeedInput(g, TOKENS), targets = FeedInput(g, NEXT_TOKENS);
  if (tokens < 0 || targets < 0) {
    return Fail(flags, absl::InvalidArgumentError("the model needs inputs with `feed: "
                                                  "TOKENS` and `feed: NEXT_TOKENS`"));
  }
  const std::string split = flags.Get("split", "valid");
  auto streams = OpenTrainingStreams(flags.Get("data"), split, *N, *T);
  if (!streams.ok()) return Fail(flags, streams.status());
  // feed: RESETS: the split's document starts, as in training's validation.
  const int resets = FeedInput(g, RESETS);
  std::optional<DocumentStarts> docs;
  if (resets >= 0) {
    auto read = ReadSplitDocuments(flags.Get("data"), split);
    if (!read.ok()) return Fail(flags, read.status());
    docs = *std::move(read);
  }
  SessionOptions so;
  so.bindings = {{"T", *T}, {"N", *N}};
  so.training = false;
  auto session = Session::Create(g, so);
  if (!session.ok()) return Fail(flags, session.status());
  Session& s = **session;
  if (auto st = RestoreParams(g, *ckpt, s.params()); !st.ok()) return Fail(flags, st);

  int64_t chunks = (*streams)->chunks_per_epoch();
  if (*max_chunks > 0) chunks = std::min(chunks, *max_chunks);
  double sum = 0;
  for (int64_t i = 0; i < chunks; ++i) {
    Tensor x = s.value(tokens), y = s.value(targets);
    (*streams)->Next(absl::MakeSpan(x.i32(), x.num_elements()),
                     absl::MakeSpan(y.i32(), y.num_elements()));
    if (docs) {  // the chunk just read starts at position() - steps()
      Tensor r = s.value(resets);
      docs->Fill((*streams)->stream_length(), (*streams)->first_column(),
                 (*streams)->position() - (*streams)->steps(),
                 absl::MakeSpan(r.f32(), r.num_elements()), *T, *N);
    }
    if (auto st = s.Forward(); !st.ok()) return Fail(flags, st);
    sum += s.loss();
    s.CarryStates();
  }
  const double loss = sum / std::max<int64_t>(chunks, 1);
  std::cout << absl::StrFormat(
      "%s split '%s' at step %d: %d tokens, loss %.4f nats/token, perplexity "
      "%.3f, %.4f "
      "bits/token\n",
      flags.Get("data"), split, ckpt->step, chunks * *T * *N, loss, std::exp(loss),
      loss / std::log(2.0));
  return 0;
}

int RunGenerate(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"checkpoint", "PATH", "checkpoint file or directory (its newest valid checkpoint)"},
      {"prime", "TEXT", "text fed before sampling (default: a newline)"},
      {"length", "N", "bytes to generate (default 500)", "SampleOptions::length"},
      {"temperature", "X", "sampling temperature > 0 (default 1)", "SampleOptions::temperature"},
      {"top-k", "K", "sample among the K most likely (default: all)", "SampleOptions::top_k"},
      {"seed", "S", "sampling seed (default 1)", "SampleOptions::seed"},
  };
  const std::string usage =
      Usage("rnnflow generate",
            "MODEL.pbtxt --checkpoint PATH [--prime TEXT] [--length N] "
            "[--temperature X]",
            "Samples text from a trained byte-level language model: the prime "
            "is fed one byte at a\n"
            "time with the state carried, then each sampled byte is fed back.",
            specs);
  ParsedFlags flags;
  if (auto exit =
          ParseCommandLine("rnnflow generate", args, specs, usage, 1, {"checkpoint"}, &flags)) {
    return *exit;
  }
  auto graph = LoadGraph(flags.positional[0]);
  if (!graph.ok()) return Fail(flags, graph.status());
  const Graph& g = *graph;
  std::vector<std::string> warnings;
  auto ckpt = LoadCheckpointFor(g, flags.Get("checkpoint"), &warnings);
  Warn(warnings);
  if (!ckpt.ok()) return Fail(flags, ckpt.status());
  std::vector<std::vector<float>> values;
  std::vector<Tensor> params;
  for (const ParamInfo& p : g.params()) {
    values.emplace_back(NumElements(p.shape));
    params.emplace_back(FLOAT32, p.shape, values.back().data());
  }
  if (auto st = RestoreParams(g, *ckpt, params); !st.ok()) return Fail(flags, st);
  auto generator = Generator::Create(g, params);
  if (!generator.ok()) return Fail(flags, generator.status());
  SampleOptions options;
  auto length = flags.GetInt("length", 500);
  auto top_k = flags.GetInt("top-k", 0);
  auto seed = flags.GetInt("seed", 1);
  auto temperature = flags.GetDouble("temperature", 1.0);
  if (!length.ok() || !top_k.ok() || !seed.ok() || !temperature.ok()) {
    return Fail(
        flags,
        absl::InvalidArgumentError("--length, --top-k, --seed and --temperature expect numbers"),
        2);
  }
  options.length = *length;
  options.top_k = static_cast<int>(*top_k);
  options.seed = static_cast<uint64_t>(*seed);
  options.temperature = static_cast<float>(*temperature);
  const std::string prime = flags.Get("prime");
  auto text = (*generator)->Generate(prime, options);
  if (!text.ok()) return Fail(flags, text.status());
  std::cout << prime << *text << "\n";
  return 0;
}

}  // namespace rnnflow
