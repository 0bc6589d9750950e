#include "rnnflow/dataset/example_prepare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/internal/data_io.h"

namespace rnnflow {
namespace {

const char* const kSplitNames[3] = {"train", "valid", "test"};

uint64_t Fnv1a(const std::vector<std::string>& tokens) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const std::string& t : tokens) {
    for (char c : t) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
    h ^= 0x1F;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A record after tokenising.
struct Tokenized {
  std::vector<std::string> tokens, tags, target;
  std::string label;
  std::string where;  // FILE:LINE:COL
  int split = 0;
};

absl::StatusOr<std::vector<std::string>> TokensOf(const RawExample& ex, bool target,
                                                  const TextRules& rules,
                                                  const std::string& where) {
  const bool pre = target ? ex.target_pre_split : ex.pre_split;
  if (pre) {
    std::vector<std::string> out;
    for (const std::string& t : target ? ex.target_tokens : ex.tokens) {
      out.push_back(NormalizeToken(t, rules));
    }
    return out;
  }
  int64_t bad = -1;
  auto tokens = Tokenize(target ? ex.target_text : ex.text, rules, &bad);
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": the record's ", target ? "target" : "text", ": ", tokens.status().message()));
  }
  return tokens;
}

// Class names and the id of each label string.
absl::Status ResolveClasses(const std::vector<Tokenized>& all, std::vector<std::string>* names,
                            absl::flat_hash_map<std::string, int32_t>* ids) {
  bool integers = true;
  int64_t max = -1;
  std::map<std::string, int64_t> seen;
  for (const Tokenized& t : all) {
    int64_t v = -1;
    if (t.label == "true") {
      v = 1;
    } else if (t.label == "false") {
      v = 0;
    } else if (!absl::SimpleAtoi(t.label, &v) || v < 0 || v > (1 << 24)) {
      integers = false;
    }
    seen[t.label] = v;
    max = std::max(max, v);
  }
  if (integers) {
    for (int64_t i = 0; i <= max; ++i) names->push_back(absl::StrCat(i));
    for (const auto& [label, v] : seen) (*ids)[label] = static_cast<int32_t>(v);
  } else {
    for (const auto& [label, v] : seen) {
      (*ids)[label] = static_cast<int32_t>(names->size());
      names->push_back(label);
    }
  }
  return absl::OkStatus();
}

std::string RulesText(const ExamplePrepareOptions& o, LabelKind kind) {
  return absl::StrCat("level\t", TokenLevelName(o.rules.level), "\n", "lowercase\t",
                      o.rules.lowercase ? 1 : 0, "\n", "strip_html\t", o.rules.strip_html ? 1 : 0,
                      "\n", "label\t",
                      kind == LabelKind::kClass   ? "class"
                      : kind == LabelKind::kFloat ? "float"
                                                  : "none",
                      "\n", "max_length\t", o.max_length, "\n");
}

}  // namespace

int ExampleSplitOf(const std::vector<std::string>& tokens, double valid, double test) {
  const double u = static_cast<double>(SplitMix(Fnv1a(tokens)) >> 11) * 0x1.0p-53;
  return u < valid ? 1 : u < valid + test ? 2 : 0;
}

absl::StatusOr<ExamplePrepareReport> PrepareExamples(const std::vector<std::string>& inputs,
                                                     const std::string& out_dir,
                                                     const ExamplePrepareOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  RF_RETURN_IF_ERROR(
      CheckSplitFractions("ExamplePrepareOptions", o.valid_fraction, o.test_fraction));
  if (inputs.empty()) return absl::InvalidArgumentError("no input files");
  if (o.min_count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExamplePrepareOptions::min_count must be >= 1; got ", o.min_count));
  }
  if (o.max_vocab != 0 && o.max_vocab < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ExamplePrepareOptions::max_vocab must be 0 (no limit) or >= 3; got ", o.max_vocab));
  }
  const LabelKind kind = o.fields.label.empty() ? LabelKind::kNone : o.label_kind;
  ExamplePrepareReport r;
  r.out_dir = out_dir;

  // 1-3: read, tokenise, truncate, deduplicate.
  std::vector<Tokenized> all;
  absl::flat_hash_map<std::string, size_t> first_of;  // dedup key -> index in all
  for (const std::string& path : inputs) {
    RF_ASSIGN_OR_RETURN(auto source, OpenExampleSource(o.format, path, o.fields));
    RF_RETURN_IF_ERROR(source->ForEach(
        [&](RawExample& ex) -> absl::Status {
          const std::string where = absl::StrCat(path, ":", ex.line, ":", ex.column);
          Tokenized t;
          t.where = where;
          RF_ASSIGN_OR_RETURN(t.tokens, TokensOf(ex, false, o.rules, where));
          if (t.tokens.empty()) {
            ++r.source.skipped_empty;
            if (r.source.first_skipped.empty()) r.source.first_skipped = where;
            return absl::OkStatus();
          }
          if (!o.fields.tags.empty()) {
            if (ex.tags.size() != t.tokens.size()) {
              return absl::InvalidArgumentError(absl::StrCat(
                  where, ": ", ex.tags.size(), " tags for ", t.tokens.size(),
                  " tokens; a tagged record needs one tag per token (give pre-split tokens)"));
            }
            t.tags = ex.tags;
          }
          if (ex.has_target) {
            RF_ASSIGN_OR_RETURN(t.target, TokensOf(ex, true, o.rules, where));
          }
          if (kind == LabelKind::kFloat) {
            double v = 0;
            if (!absl::SimpleAtod(ex.label, &v) || !std::isfinite(v)) {
              return absl::InvalidArgumentError(absl::StrCat(
                  where, ": label '", ex.label,
                  "' is not a finite number (ExamplePrepareOptions::label_kind is kFloat)"));
            }
          }
          t.label = ex.label;
          ++r.examples;
          if (o.max_length > 0 && static_cast<int64_t>(t.tokens.size()) > o.max_length) {
            ++r.truncated;
            t.tokens.resize(o.max_length);
            if (!t.tags.empty()) t.tags.resize(o.max_length);
          }
          if (o.deduplicate) {
            std::string key;
            for (const std::string& s : t.tokens) absl::StrAppend(&key, s, "\x1f");
            absl::StrAppend(&key, "\x1e");
            for (const std::string& s : t.target) absl::StrAppend(&key, s, "\x1f");
            auto [it, inserted] = first_of.emplace(std::move(key), all.size());
            if (!inserted) {
              ++r.duplicates;
              if (all[it->second].label != t.label || all[it->second].tags != t.tags) {
                ++r.conflicting;
              }
              return absl::OkStatus();
            }
          }
          t.split = ExampleSplitOf(t.tokens, o.valid_fraction, o.test_fraction);
          all.push_back(std::move(t));
          return absl::OkStatus();
        },
        &r.source));
  }
  if (all.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no usable examples in ", absl::StrJoin(inputs, ", "), " (", r.source.records, " records; ",
        r.source.skipped_empty, " without text, ", r.source.skipped_no_label,
        " without a label; fields: text '", o.fields.text, "', label '", o.fields.label, "')"));
  }

  // 5: vocabularies.
  absl::flat_hash_map<std::string, int64_t> counts, target_counts;
  std::map<std::string, int64_t> tag_counts;
  for (const Tokenized& t : all) {
    for (const std::string& tag : t.tags) ++tag_counts[tag];
    if (t.split != 0) continue;
    for (const std::string& s : t.tokens) ++counts[s];
    for (const std::string& s : t.target) ++target_counts[s];
  }
  const ExampleVocab vocab = ExampleVocab::Build(counts, o.min_count, o.max_vocab);
  const bool has_targets = !o.fields.target.empty();
  const ExampleVocab target_vocab = ExampleVocab::Build(target_counts, o.min_count, o.max_vocab);
  std::vector<std::pair<std::string, int64_t>> tags_sorted(tag_counts.begin(), tag_counts.end());
  std::stable_sort(tags_sorted.begin(), tags_sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> tag_names;
  for (const auto& [tag, n] : tags_sorted) tag_names.push_back(tag);
  ExampleVocab tags = ExampleVocab::FromNames(tag_names);
  for (size_t i = 0; i < tags_sorted.size(); ++i) tags.AddCount(i, tags_sorted[i].second);
  absl::flat_hash_map<std::string, int32_t> class_ids;
  if (kind == LabelKind::kClass) RF_RETURN_IF_ERROR(ResolveClasses(all, &r.classes, &class_ids));
  r.class_counts.assign(3, std::vector<int64_t>(r.classes.size(), 0));

  // 6: examples by split, then the files.
  ExampleFileInfo info;
  info.label_kind = kind;
  info.label_width = kind == LabelKind::kNone ? 0 : 1;
  info.has_tags = !o.fields.tags.empty();
  info.has_targets = has_targets;
  info.vocab_size = vocab.size();
  info.num_classes = static_cast<int64_t>(r.classes.size());
  info.num_tags = tags.size();
  info.target_vocab_size = has_targets ? target_vocab.size() : 0;
  std::vector<Example> splits[3];
  for (const Tokenized& t : all) {
    Example e;
    for (const std::string& s : t.tokens) {
      e.tokens.push_back(vocab.Find(s, kUnkId));
      r.split_unknown[t.split] += e.tokens.back() == kUnkId;
    }
    for (const std::string& s : t.tags) e.tags.push_back(tags.Find(s, -1));
    for (const std::string& s : t.target) e.targets.push_back(target_vocab.Find(s, kUnkId));
    if (kind == LabelKind::kClass) {
      e.label = class_ids.at(t.label);
      ++r.class_counts[t.split][e.label];
    } else if (kind == LabelKind::kFloat) {
      double v = 0;
      (void)absl::SimpleAtod(t.label, &v);
      e.label_values = {static_cast<float>(v)};
    }
    r.split_tokens[t.split] += static_cast<int64_t>(e.tokens.size());
    r.max_tokens = std::max<int64_t>(r.max_tokens, e.tokens.size());
    splits[t.split].push_back(std::move(e));
  }
  RF_RETURN_IF_ERROR(MakeDirectories(out_dir));
  for (int s = 0; s < 3; ++s) {
    r.split_examples[s] = static_cast<int64_t>(splits[s].size());
    RF_RETURN_IF_ERROR(
        WriteExampleFile(absl::StrCat(out_dir, "/", kSplitNames[s], ".ex"), info, splits[s]));
  }
  RF_RETURN_IF_ERROR(vocab.Write(out_dir + "/vocab.tsv"));
  if (kind == LabelKind::kClass) {
    RF_RETURN_IF_ERROR(ExampleVocab::FromNames(r.classes).Write(out_dir + "/labels.tsv"));
  }
  if (info.has_tags) RF_RETURN_IF_ERROR(tags.Write(out_dir + "/tags.tsv"));
  if (has_targets) RF_RETURN_IF_ERROR(target_vocab.Write(out_dir + "/target_vocab.tsv"));
  RF_RETURN_IF_ERROR(WriteSmallFile(out_dir + "/rules.tsv", RulesText(o, kind)));
  r.vocab_size = vocab.size();
  r.num_tags = tags.size();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

absl::StatusOr<ExampleRulesFile> ReadExampleRules(const std::string& dir) {
  const std::string path = dir + "/rules.tsv";
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot open (a directory written by `rnnflow prepare examples` has it)"));
  }
  ExampleRulesFile f;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::vector<std::string> kv = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    if (kv.size() != 2) {
      return absl::DataLossError(absl::StrCat(path, ":", n, ":1: expected `key<TAB>value`"));
    }
    const std::string& k = kv[0];
    const std::string& v = kv[1];
    if (k == "level") {
      RF_ASSIGN_OR_RETURN(f.rules.level, ParseTokenLevel(v));
    } else if (k == "lowercase") {
      f.rules.lowercase = v == "1";
    } else if (k == "strip_html") {
      f.rules.strip_html = v == "1";
    } else if (k == "label") {
      f.label_kind = v == "class"   ? LabelKind::kClass
                     : v == "float" ? LabelKind::kFloat
                                    : LabelKind::kNone;
    } else if (k == "max_length") {
      if (!absl::SimpleAtoi(v, &f.max_length)) {
        return absl::DataLossError(
            absl::StrCat(path, ":", n, ":", k.size() + 2, ": max_length is not an integer"));
      }
    }
  }
  return f;
}

}  // namespace rnnflow
