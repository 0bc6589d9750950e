#include "tools/prepare_command.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/dataset/corpus.h"
#include "rnnflow/dataset/csv.h"
#include "rnnflow/dataset/documents.h"
#include "rnnflow/dataset/example_prepare.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

const char kSummary[] =
    "Prepares data for training, streaming (memory does not grow with the "
    "input):\n"
    "\n"
    "  rnnflow prepare text CORPUS --out DIR [--level byte|char]\n"
    "      DIR/vocab.tsv, DIR/{train,valid,test}.tok (token files), "
    "DIR/meta.json\n"
    "  rnnflow prepare series FILE.csv --column NAME[,NAME...] --out DIR\n"
    "      DIR/series.f32 (normalised float32 rows), DIR/stats.tsv (mean, "
    "std), DIR/meta.json\n"
    "  rnnflow prepare examples FILE... --out DIR [--format json|tsv|csv] [--level word|char]\n"
    "      DIR/{train,valid,test}.ex (labelled examples), DIR/vocab.tsv, DIR/labels.tsv,\n"
    "      DIR/rules.tsv; split by a hash of each example's tokens\n"
    "\n"
    "Splits are taken by position (text) or time (series): train first, then "
    "valid, then\n"
    "test. `rnnflow prepare text --help` and `rnnflow prepare series --help` "
    "list the flags;\n"
    "dataset/corpus.h, dataset/csv.h and dataset/token_streams.h document the "
    "formats.";

std::string Megabytes(int64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

absl::Status GetFractions(const ParsedFlags& flags, double* valid, double* test) {
  auto v = flags.GetDouble("valid", 0.05);
  if (!v.ok()) return v.status();
  auto t = flags.GetDouble("test", 0.05);
  if (!t.ok()) return t.status();
  *valid = *v;
  *test = *t;
  return absl::OkStatus();
}

int RunPrepareText(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"out", "DIR", "output directory (created if needed)"},
      {"level", "byte|char", "tokens: bytes (vocabulary 256, default) or UTF-8 characters",
       "TextPrepareOptions::level"},
      {"valid", "F", "fraction held out for validation, after train (default 0.05)",
       "TextPrepareOptions::valid_fraction"},
      {"test", "F", "fraction held out for testing, at the end (default 0.05)",
       "TextPrepareOptions::test_fraction"},
      {"min-count", "N", "char level: train characters seen < N times become <unk> (1)",
       "TextPrepareOptions::min_count"},
  };
  const std::string usage =
      Usage("rnnflow prepare text", "CORPUS [CORPUS...] --out DIR [flags]",
            "Builds the vocabulary of CORPUS and writes its tokens, split by "
            "position into\n"
            "DIR/train.tok, DIR/valid.tok and DIR/test.tok, plus DIR/vocab.tsv "
            "and DIR/meta.json.\n"
            "--level char reads UTF-8 (malformed input is an error naming line "
            "and column); its\n"
            "vocabulary is the train split's characters by frequency, then "
            "<unk>. Reads the file\n"
            "in blocks (twice at char level). `rnnflow train --data DIR` reads "
            "the result.\n"
            "Several files (or a directory: its files in name order) are "
            "documents: their\n"
            "concatenation is prepared the same way, and DIR/{train,valid,test}.docs "
            "list the token\n"
            "positions where documents start (dataset/documents.h), which a "
            "graph input with\n"
            "`feed: RESETS` turns into state resets.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow prepare text", args, specs, usage, kAnyPositional,
                                   {"out"}, &flags)) {
    return *exit;
  }
  TextPrepareOptions options;
  auto level = flags.GetParsed("level", "byte", ParseTextLevel);
  if (!level.ok()) return Fail(flags, level.status(), 2);
  options.level = *level;
  absl::Status s = GetFractions(flags, &options.valid_fraction, &options.test_fraction);
  if (!s.ok()) return Fail(flags, s, 2);
  auto min_count = flags.GetInt("min-count", 1);
  if (!min_count.ok()) return Fail(flags, min_count.status(), 2);
  options.min_count = *min_count;

  if (flags.positional.empty()) {
    return Fail(flags, absl::InvalidArgumentError("expects a CORPUS file\n\n" + usage), 2);
  }
  auto files = ListDocumentFiles(flags.positional);
  if (!files.ok()) return Fail(flags, files.status());
  const bool documents = files->size() > 1 || *files != flags.positional;
  int64_t docs[3] = {0, 0, 0};
  auto report = documents ? PrepareTextDocuments(*files, flags.Get("out"), options, docs)
                          : PrepareText(flags.positional[0], flags.Get("out"), options);
  if (!report.ok()) return Fail(flags, report.status());
  const TextPrepareReport& r = *report;
  std::cout << "prepared " << r.out_dir << " from " << r.source << " (" << TextLevelName(r.level)
            << " level)\n";
  std::cout << absl::StrFormat("  vocabulary %d tokens%s; %d-byte token ids\n", r.vocab_size,
                               r.unk_id >= 0 ? absl::StrCat(" (id ", r.unk_id, " = <unk>)") : "",
                               r.token_width);
  for (const SplitSummary& sp : r.splits) {
    std::cout << absl::StrFormat("  %-5s %12d tokens  bytes [%d, %d)%s\n", sp.name, sp.tokens,
                                 sp.begin_byte, sp.end_byte,
                                 r.unk_id >= 0 ? absl::StrCat(", ", sp.unknown, " <unk>") : "");
  }
  if (documents) {
    std::cout << absl::StrFormat(
        "  %d documents; starting in train %d, valid %d, test %d (.docs)\n",
        docs[0] + docs[1] + docs[2], docs[0], docs[1], docs[2]);
  }
  std::cout << absl::StrFormat(
      "  read %s in %.2f s (%d %s): %.1f MB/s; peak RSS %s\n", Megabytes(r.input_bytes), r.seconds,
      r.passes, r.passes == 1 ? "pass" : "passes", r.mb_per_second, Megabytes(r.peak_rss_bytes));
  return 0;
}

int RunPrepareExamples(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"out", "DIR", "output directory (created if needed)"},
      {"format", "NAME",
       absl::StrCat("input format: ", absl::StrJoin(ExampleFormats(), ", "), " (default json)"),
       "ExamplePrepareOptions::format"},
      {"text-field", "NAME", "field (or, with --no-header, 1-based column) of the text (text)",
       "ExampleFields::text"},
      {"label-field", "NAME", "field of the label (class); empty: no labels",
       "ExampleFields::label"},
      {"tags-field", "NAME", "field of per-token tags (sequence labelling)", "ExampleFields::tags"},
      {"target-field", "NAME", "field of a target sequence (pairs)", "ExampleFields::target"},
      {"no-header", "", "tsv/csv: no header row; fields are column numbers",
       "ExampleFields::header"},
      {"label-type", "class|float", "class ids (default) or float targets",
       "ExamplePrepareOptions::label_kind"},
      {"level", "word|char", "tokens: words (default) or UTF-8 characters", "TextRules::level"},
      {"lowercase", "", "map ASCII A-Z to a-z", "TextRules::lowercase"},
      {"strip-html", "", "replace <...> tags (e.g. <br />) by a space", "TextRules::strip_html"},
      {"min-count", "N", "train tokens seen < N times become <unk> (default 1)",
       "ExamplePrepareOptions::min_count"},
      {"max-vocab", "N", "at most N token ids, <pad> and <unk> included (default: no limit)",
       "ExamplePrepareOptions::max_vocab"},
      {"max-length", "N", "keep the first N tokens of longer examples (default: all)",
       "ExamplePrepareOptions::max_length"},
      {"valid", "F", "fraction for validation, by hash (default 0.1)",
       "ExamplePrepareOptions::valid_fraction"},
      {"test", "F", "fraction for testing, by hash (default 0.1)",
       "ExamplePrepareOptions::test_fraction"},
      {"keep-duplicates", "", "do not drop examples whose tokens repeat an earlier one",
       "ExamplePrepareOptions::deduplicate"},
  };
  const std::string usage =
      Usage("rnnflow prepare examples", "FILE... --out DIR [flags]",
            "Reads labelled examples (JSON arrays of flat objects, TSV, CSV, or `tagged`\n"
            "word/TAG sentences, one per line), tokenises them,\n"
            "drops duplicates, splits them by a hash of their tokens into train/valid/test and\n"
            "writes DIR/{train,valid,test}.ex, DIR/vocab.tsv (train split, <pad>=0, <unk>=1),\n"
            "DIR/labels.tsv, DIR/rules.tsv (so `rnnflow predict` tokenises alike). Records\n"
            "without text or label are skipped and counted. Errors name FILE:LINE:COLUMN.\n"
            "dataset/example_prepare.h, dataset/example_text.h and dataset/example_file.h\n"
            "document the rules and formats.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow prepare examples", args, specs, usage, kAnyPositional,
                                   {"out"}, &flags)) {
    return *exit;
  }
  if (flags.positional.empty()) {
    return Fail(flags, absl::InvalidArgumentError("no input files"), 2);
  }
  ExamplePrepareOptions o;
  o.format = flags.Get("format", "json");
  o.fields.text = flags.Get("text-field", "text");
  // A tagged corpus (word/TAG tokens) has tags and no label unless told.
  const bool tagged = o.format == "tagged";
  o.fields.label = flags.Get("label-field", tagged ? "" : "class");
  o.fields.tags = flags.Get("tags-field", tagged ? "tag" : "");
  o.fields.target = flags.Get("target-field");
  o.fields.header = !flags.Has("no-header");
  const std::string label_type = flags.Get("label-type", "class");
  if (label_type != "class" && label_type != "float") {
    return Fail(flags,
                absl::InvalidArgumentError(
                    absl::StrCat("--label-type '", label_type, "' (expected class or float)")),
                2);
  }
  o.label_kind = label_type == "class" ? LabelKind::kClass : LabelKind::kFloat;
  auto level = flags.GetParsed("level", "word", ParseTokenLevel);
  if (!level.ok()) return Fail(flags, level.status(), 2);
  o.rules.level = *level;
  o.rules.lowercase = flags.Has("lowercase");
  o.rules.strip_html = flags.Has("strip-html");
  o.deduplicate = !flags.Has("keep-duplicates");
  auto min_count = flags.GetInt("min-count", 1);
  auto max_vocab = flags.GetInt("max-vocab", 0);
  auto max_length = flags.GetInt("max-length", 0);
  auto valid = flags.GetDouble("valid", 0.1);
  auto test = flags.GetDouble("test", 0.1);
  for (const absl::Status& st : {min_count.status(), max_vocab.status(), max_length.status(),
                                 valid.status(), test.status()}) {
    if (!st.ok()) return Fail(flags, st, 2);
  }
  o.min_count = *min_count;
  o.max_vocab = *max_vocab;
  o.max_length = *max_length;
  o.valid_fraction = *valid;
  o.test_fraction = *test;

  auto report = PrepareExamples(flags.positional, flags.Get("out"), o);
  if (!report.ok()) return Fail(flags, report.status());
  const ExamplePrepareReport& r = *report;
  std::cout << absl::StrFormat(
      "prepared %s: %d records read, %d used (%d duplicates dropped, %d of them with another "
      "label)\n",
      r.out_dir, r.source.records, r.examples - r.duplicates, r.duplicates, r.conflicting);
  if (r.source.skipped_empty + r.source.skipped_no_label > 0) {
    std::cout << absl::StrFormat("  skipped %d without text, %d without a label (first: %s)\n",
                                 r.source.skipped_empty, r.source.skipped_no_label,
                                 r.source.first_skipped);
  }
  if (r.truncated > 0) {
    std::cout << absl::StrFormat("  %d examples longer than %d tokens keep their first %d\n",
                                 r.truncated, o.max_length, o.max_length);
  }
  std::cout << absl::StrFormat("  vocabulary %d tokens (%s level%s), longest example %d tokens\n",
                               r.vocab_size, TokenLevelName(o.rules.level),
                               o.rules.lowercase ? ", lowercased" : "", r.max_tokens);
  const char* names[3] = {"train", "valid", "test"};
  for (int s = 0; s < 3; ++s) {
    std::string classes;
    for (size_t c = 0; c < r.classes.size(); ++c) {
      absl::StrAppend(&classes, c ? " " : "  classes ", r.classes[c], ":", r.class_counts[s][c]);
    }
    std::cout << absl::StrFormat("  %-5s %7d examples %9d tokens (%d <unk>)%s\n", names[s],
                                 r.split_examples[s], r.split_tokens[s], r.split_unknown[s],
                                 classes);
  }
  return 0;
}

int RunPrepareSeries(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"out", "DIR", "output directory (created if needed)"},
      {"column", "NAME[,NAME]", "a float column to keep (repeatable; or a comma list)",
       "SeriesPrepareOptions::columns"},
      {"missing", "POLICY", "empty/non-numeric values: error (default), interpolate, drop",
       "SeriesPrepareOptions::missing"},
      {"valid", "F", "fraction of rows for validation, after train (default 0.05)",
       "SeriesPrepareOptions::valid_fraction"},
      {"test", "F", "fraction of rows for testing, at the end (default 0.05)",
       "SeriesPrepareOptions::test_fraction"},
  };
  const std::string usage =
      Usage("rnnflow prepare series", "FILE.csv --column NAME --out DIR [flags]",
            "Reads the named columns of FILE.csv (header row; quoted fields; "
            "LF or CRLF) and writes\n"
            "DIR/series.f32 (float32 rows, normalised with the train rows' "
            "mean and std), DIR/stats.tsv\n"
            "(those means and stds, to undo the normalisation) and "
            "DIR/meta.json. Rows are split by\n"
            "time: train, then valid, then test. Missing values (empty or not "
            "a number):\n"
            "  error        stop at the first, naming FILE:LINE:COLUMN\n"
            "  interpolate  linear between the neighbouring values of the "
            "column; before the first\n"
            "               or after the last value, that value\n"
            "  drop         leave the row out",
            specs);
  // --column may be given several times; the flag parser keeps one value per
  // name, so collect them first.
  std::vector<std::string> columns, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--column" && i + 1 < args.size()) {
      value = args[++i];
    } else if (absl::StartsWith(args[i], "--column=")) {
      value = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      columns.emplace_back(name);
    }
  }
  ParsedFlags flags;
  if (auto exit =
          ParseCommandLine("rnnflow prepare series", rest, specs, usage, 1, {"out"}, &flags)) {
    return *exit;
  }
  SeriesPrepareOptions options;
  options.columns = columns;
  auto missing = flags.GetParsed("missing", "error", ParseMissingPolicy);
  if (!missing.ok()) return Fail(flags, missing.status(), 2);
  options.missing = *missing;
  absl::Status s = GetFractions(flags, &options.valid_fraction, &options.test_fraction);
  if (!s.ok()) return Fail(flags, s, 2);

  auto report = PrepareSeries(flags.positional[0], flags.Get("out"), options);
  if (!report.ok()) return Fail(flags, report.status());
  const SeriesPrepareReport& r = *report;
  std::cout << "prepared " << r.out_dir << " from " << r.source << ": " << r.rows << " rows x "
            << r.columns.size() << " columns";
  if (r.dropped_rows > 0) std::cout << " (" << r.dropped_rows << " rows dropped)";
  std::cout << "\n";
  std::cout << absl::StrFormat("  train %d rows, valid %d, test %d\n", r.split_rows[0],
                               r.split_rows[1], r.split_rows[2]);
  for (const SeriesColumnStats& c : r.columns) {
    std::cout << absl::StrFormat("  %-12s mean %-14.6g std %-14.6g missing %d\n", c.name, c.mean,
                                 c.std, c.missing);
  }
  std::cout << absl::StrFormat("  read %s in %.3f s: %.1f MB/s; peak RSS %s\n",
                               Megabytes(r.input_bytes), r.seconds, r.mb_per_second,
                               Megabytes(r.peak_rss_bytes));
  return 0;
}

}  // namespace

int RunPrepare(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout)
        << "usage: rnnflow prepare text|series|examples INPUT --out DIR [flags]\n\n"
        << kSummary << "\n";
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "text") return RunPrepareText(rest);
  if (args[0] == "series") return RunPrepareSeries(rest);
  if (args[0] == "examples") return RunPrepareExamples(rest);
  std::cerr << "rnnflow prepare: unknown kind '" << args[0]
            << "' (expected text, series or examples)\n";
  return 2;
}

}  // namespace rnnflow
