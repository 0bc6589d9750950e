#include "rnnflow/training/example_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/dataset/example_text.h"

namespace rnnflow {
namespace {

bool IsExampleFeed(Feed f) { return f >= EXAMPLE_TOKENS && f <= EXAMPLE_TARGET_LENGTHS; }

Feed FeedOf(const Graph& g, int tensor) {
  const TensorInfo& t = g.tensor(tensor);
  if (t.source != TensorSource::kGraphInput) return FEED_NONE;
  return g.model().input(t.index).feed();
}

// A per-step input: its leading axis is a time symbol.
bool PerStep(const TensorInfo& t) { return t.time == TimeKind::kSequence; }

}  // namespace

bool IsExampleModel(const Graph& graph) {
  for (int id : graph.graph_inputs()) {
    if (IsExampleFeed(FeedOf(graph, id))) return true;
  }
  return false;
}

std::string SourceTimeSymbol(const Graph& graph) {
  for (int id : graph.graph_inputs()) {
    const Feed f = FeedOf(graph, id);
    if ((f == EXAMPLE_TOKENS || f == EXAMPLE_VALUES) && PerStep(graph.tensor(id))) {
      return graph.tensor(id).time_symbol;
    }
  }
  return kDefaultTimeSymbol;
}

int64_t LongestSource(const ExampleFile& file) {
  int64_t longest = 0;
  for (int64_t i = 0; i < file.size(); ++i) longest = std::max(longest, file.length(i));
  return longest;
}

absl::StatusOr<SymbolBindings> ExampleTimeBindings(const Graph& graph, int64_t steps,
                                                   int64_t source_steps, int64_t longest_source) {
  SymbolBindings b;
  b[kDefaultTimeSymbol] = steps;
  const std::string source = SourceTimeSymbol(graph);
  if (source != kDefaultTimeSymbol) {
    b[source] = source_steps > 0 ? source_steps : std::max<int64_t>(1, longest_source);
  }
  for (int id : graph.graph_inputs()) {
    const TensorInfo& t = graph.tensor(id);
    if (PerStep(t) && !b.contains(t.time_symbol)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "graph input '", t.name, "' runs over time axis ", t.time_symbol,
          ", which an example model cannot bind: use T (bound by TrainerOptions::truncation_steps "
          "or training.truncation_steps) or, for the source of a pairs model, the time symbol of "
          "the EXAMPLE_TOKENS input (bound by TrainerOptions::source_steps or the longest "
          "source)"));
    }
  }
  return b;
}

absl::StatusOr<std::unique_ptr<ExampleFeeder>> ExampleFeeder::Create(const Session& session,
                                                                     const ExampleFileInfo& info,
                                                                     const std::string& data) {
  const Graph& g = session.graph();
  std::unique_ptr<ExampleFeeder> f(new ExampleFeeder());
  // The steps of each side, from the buffers as bound (source: [S, N, ...],
  // target: [T, N]); an input not on its side's time axis is an error.
  std::string source_symbol, target_symbol;
  for (int id : g.graph_inputs()) {
    const Feed feed = FeedOf(g, id);
    const TensorInfo& t = g.tensor(id);
    if (!IsExampleFeed(feed) || !PerStep(t)) continue;
    const bool target = feed == EXAMPLE_TARGET_INPUTS || feed == EXAMPLE_TARGET_OUTPUTS;
    std::string& side = target ? target_symbol : source_symbol;
    if (side.empty()) {
      side = t.time_symbol;
      (target ? f->T_ : f->S_) = session.value(id).dim(0);
    } else if (side != t.time_symbol) {
      return absl::InvalidArgumentError(absl::StrCat(
          "graph input '", t.name, "' (feed: ", Feed_Name(feed), ") runs over time axis ",
          t.time_symbol, " but the other ", target ? "target" : "source", " inputs run over ", side,
          "; the source inputs (tokens, tags, values, per-step weights) share one time "
          "symbol and the target inputs one (data: ",
          data, ")"));
    }
  }
  if (f->S_ == 0) f->S_ = f->T_ > 0 ? f->T_ : session.T();
  if (f->T_ == 0) f->T_ = f->S_;
  f->features_ = info.features;
  f->label_width_ = std::max(1, info.label_width);
  int64_t n = -1;
  auto fail = [&](int id, const std::string& what) {
    const TensorInfo& t = g.tensor(id);
    return absl::InvalidArgumentError(
        absl::StrCat("graph input '", t.name, "' (feed: ", Feed_Name(FeedOf(g, id)), ") ", what,
                     "; got ", DataType_Name(t.dtype), " ",
                     ShapeToString(session.value(id).shape()), " (data: ", data, ")"));
  };
  for (int id : g.graph_inputs()) {
    const Feed feed = FeedOf(g, id);
    if (!IsExampleFeed(feed)) continue;
    const TensorInfo& info_t = g.tensor(id);
    const Tensor v = session.value(id);
    switch (feed) {
      case EXAMPLE_TOKENS:
      case EXAMPLE_TAGS:
        if (info_t.dtype != INT32 || v.rank() != 2 || v.dim(0) != f->S_) {
          return fail(id, "must be INT32 [T, N] (or [S, N] with a source time symbol)");
        }
        n = v.dim(1);
        (feed == EXAMPLE_TOKENS ? f->tokens_ : f->tags_) = id;
        if (feed == EXAMPLE_TAGS && !info.has_tags) {
          return fail(id,
                      "needs per-token tags, but the prepared examples have none "
                      "(prepare them with ExamplePrepareOptions::fields.tags)");
        }
        break;
      case EXAMPLE_VALUES:
        if (info_t.dtype != FLOAT32 || v.rank() != 3 || v.dim(0) != f->S_ ||
            v.dim(2) != info.features) {
          return fail(id, absl::StrCat("must be FLOAT32 [T, N, ", info.features,
                                       "] (the prepared examples' features per step)"));
        }
        n = v.dim(1);
        f->values_ = id;
        break;
      case EXAMPLE_TARGET_INPUTS:
      case EXAMPLE_TARGET_OUTPUTS:
        if (info_t.dtype != INT32 || v.rank() != 2 || v.dim(0) != f->T_) {
          return fail(id, "must be INT32 [T, N]");
        }
        if (!info.has_targets) {
          return fail(id,
                      "needs target sequences, but the prepared examples have none "
                      "(prepare pairs: ExamplePrepareOptions::fields.target)");
        }
        (feed == EXAMPLE_TARGET_INPUTS ? f->target_in_ : f->target_out_) = id;
        break;
      default:
        break;
    }
  }
  if (n < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an example model needs a graph input with `feed: EXAMPLE_TOKENS` (INT32 [T, N]) or "
        "`feed: EXAMPLE_VALUES` (FLOAT32 [T, N, F]) (data: ",
        data, ")"));
  }
  f->N_ = n;
  const int64_t k = f->label_width_;
  for (int id : g.graph_inputs()) {
    const Feed feed = FeedOf(g, id);
    const TensorInfo& t = g.tensor(id);
    const Tensor v = session.value(id);
    if (feed == EXAMPLE_LENGTHS) {
      if (t.dtype != INT32 || v.num_elements() != n) return fail(id, "must be INT32 [N]");
      f->lengths_ = id;
    } else if (feed == EXAMPLE_TARGET_LENGTHS) {
      if (t.dtype != INT32 || v.num_elements() != n) return fail(id, "must be INT32 [N]");
      f->target_lengths_ = id;
    } else if (feed == EXAMPLE_TARGET_INPUTS || feed == EXAMPLE_TARGET_OUTPUTS) {
      if (session.value(id).dim(1) != n) return fail(id, "must be INT32 [T, N]");
    } else if (feed == EXAMPLE_LABEL) {
      if (info.label_kind == LabelKind::kNone) {
        return fail(id, "needs labels, but the prepared examples have none");
      }
      if (t.dtype == INT32) {
        if (info.label_kind != LabelKind::kClass || v.num_elements() != n) {
          return fail(id, "as INT32 takes class ids and must have N elements (e.g. [N])");
        }
      } else if (v.num_elements() != n * k) {
        return fail(id,
                    absl::StrCat("as FLOAT32 must have N x ", k, " elements (e.g. [N, ", k, "])"));
      }
      f->label_ = id;
    } else if (feed == EXAMPLE_WEIGHTS) {
      f->weights_per_step_ = PerStep(t);
      const int64_t want = (f->weights_per_step_ ? f->S_ : 1) * n * k;
      if (t.dtype != FLOAT32 || v.num_elements() != want) {
        return fail(id, absl::StrCat("must be FLOAT32 with N x ", k, " elements, or T x N x ", k,
                                     " with a leading T"));
      }
      f->weights_ = id;
    }
  }
  // Embedding tables must cover the vocabulary.
  for (const NodeInfo& node : g.nodes()) {
    if (node.def->op() != "Embedding" || node.inputs.empty()) continue;
    const bool source = f->tokens_ >= 0 && node.inputs[0] == f->tokens_;
    const bool target = f->target_in_ >= 0 && node.inputs[0] == f->target_in_;
    if (!source && !target) continue;
    const int64_t rows = node.def->attr().at("vocab").i();
    const int64_t need = source ? info.vocab_size : info.target_vocab_size;
    if (rows < need) {
      return absl::InvalidArgumentError(
          absl::StrCat(data, ": the examples have a ", source ? "" : "target ", "vocabulary of ",
                       need, " tokens but node '", node.def->name(), "' (Embedding) has vocab ",
                       rows, "; raise its vocab attribute"));
    }
  }
  // What the loss averages over, and how to score it.
  if (g.loss() >= 0 && g.tensor(g.loss()).source == TensorSource::kNodeOutput) {
    const NodeInfo& loss = g.nodes()[g.tensor(g.loss()).index];
    const std::string& op = loss.def->op();
    if (loss.num_declared_inputs >= 2) {
      const int target = loss.inputs[1];
      const Feed target_feed = FeedOf(g, target);
      f->loss_per_step_ = target_feed == EXAMPLE_TAGS || PerStep(g.tensor(target));
      f->loss_on_targets_ = target_feed == EXAMPLE_TARGET_OUTPUTS;
      if (op == "SoftmaxCrossEntropy" &&
          (target_feed == EXAMPLE_LABEL || target_feed == EXAMPLE_TAGS ||
           target_feed == EXAMPLE_TARGET_OUTPUTS)) {
        f->score_kind_ = kSoftmax;
        f->ignore_label_ = loss.def->attr().at("ignore_label").i();
      } else if (op == "SigmoidCrossEntropy" && target_feed == EXAMPLE_LABEL) {
        f->score_kind_ = kSigmoid;
        if (loss.inputs.size() > 2) f->score_weights_ = loss.inputs[2];
      }
      f->logits_ = loss.inputs[0];
      f->loss_op_ = op;
      f->score_labels_ = target;
    }
  }
  return f;
}

ExampleRef RefOf(const ExampleFile& file, int64_t i) {
  ExampleRef r;
  if (i < 0) return r;
  const ExampleFileInfo& info = file.info();
  r.present = true;
  r.tokens = file.tokens(i);
  if (info.has_tags) r.tags = file.tags(i);
  if (info.features > 0) r.values = file.values(i);
  if (info.has_targets) r.targets = file.targets(i);
  if (info.label_kind == LabelKind::kClass) r.label = file.label(i);
  if (info.label_kind == LabelKind::kFloat) r.label_values = file.label_values(i);
  return r;
}

FeedStats ExampleFeeder::Fill(const ExampleFile& file, absl::Span<const int64_t> slots,
                              const Session& s) const {
  std::vector<ExampleRef> refs;
  refs.reserve(slots.size());
  for (int64_t e : slots) refs.push_back(RefOf(file, e));
  return Fill(refs, file.info().label_kind == LabelKind::kClass, s);
}

FeedStats ExampleFeeder::Fill(absl::Span<const ExampleRef> slots, bool class_labels,
                              const Session& s) const {
  FeedStats stats;
  // T: the source side's steps below; the target side's are T_.
  const int64_t T = S_, N = N_, k = label_width_;
  auto full_len = [&](int64_t n) { return static_cast<int64_t>(slots[n].tokens.size()); };
  auto len_of = [&](int64_t n) -> int64_t {
    return slots[n].present ? std::min<int64_t>(full_len(n), T) : 1;
  };
  // Pairs: the decoder reads m + 1 steps (start symbol, y_1..y_m).
  const bool pairs = target_in_ >= 0 || target_out_ >= 0;
  auto target_len_of = [&](int64_t n) -> int64_t {
    return slots[n].present ? std::min<int64_t>(slots[n].targets.size() + 1, T_) : 1;
  };
  for (int64_t n = 0; n < N; ++n) {
    if (!slots[n].present) continue;
    ++stats.examples;
    stats.truncated += full_len(n) > T;
    if (pairs) stats.target_truncated += static_cast<int64_t>(slots[n].targets.size()) + 1 > T_;
    stats.loss_count += loss_on_targets_ ? target_len_of(n) : loss_per_step_ ? len_of(n) : 1;
  }
  if (target_in_ >= 0 || target_out_ >= 0) {
    int32_t* in = target_in_ >= 0 ? s.value(target_in_).i32() : nullptr;
    int32_t* out = target_out_ >= 0 ? s.value(target_out_).i32() : nullptr;
    if (in != nullptr) std::fill(in, in + T_ * N, kPadId);
    if (out != nullptr) std::fill(out, out + T_ * N, -1);
    for (int64_t n = 0; n < N; ++n) {
      if (!slots[n].present) continue;
      const absl::Span<const int32_t> y = slots[n].targets;
      const int64_t m = static_cast<int64_t>(y.size());
      for (int64_t t = 0; t < target_len_of(n); ++t) {
        if (in != nullptr) in[t * N + n] = t == 0 ? kPadId : y[t - 1];
        if (out != nullptr) out[t * N + n] = t < m ? y[t] : kPadId;
      }
    }
  }
  if (target_lengths_ >= 0) {
    int32_t* l = s.value(target_lengths_).i32();
    for (int64_t n = 0; n < N; ++n) l[n] = static_cast<int32_t>(target_len_of(n));
  }
  if (tokens_ >= 0) {
    int32_t* x = s.value(tokens_).i32();
    std::fill(x, x + T * N, kPadId);
    for (int64_t n = 0; n < N; ++n) {
      if (!slots[n].present) continue;
      for (int64_t t = 0; t < len_of(n); ++t) x[t * N + n] = slots[n].tokens[t];
    }
  }
  if (tags_ >= 0) {
    int32_t* y = s.value(tags_).i32();
    std::fill(y, y + T * N, -1);
    for (int64_t n = 0; n < N; ++n) {
      if (!slots[n].present || slots[n].tags.empty()) continue;
      for (int64_t t = 0; t < len_of(n); ++t) y[t * N + n] = slots[n].tags[t];
    }
  }
  if (values_ >= 0) {
    const int64_t F = features_;
    float* v = s.value(values_).f32();
    std::fill(v, v + T * N * F, 0.f);
    for (int64_t n = 0; n < N; ++n) {
      if (!slots[n].present) continue;
      const float* src = slots[n].values.data();
      for (int64_t t = 0; t < len_of(n); ++t) {
        std::copy(src + t * F, src + (t + 1) * F, v + (t * N + n) * F);
      }
    }
  }
  if (lengths_ >= 0) {
    int32_t* l = s.value(lengths_).i32();
    for (int64_t n = 0; n < N; ++n) l[n] = static_cast<int32_t>(len_of(n));
  }
  if (label_ >= 0) {
    const Tensor lab = s.value(label_);
    for (int64_t n = 0; n < N; ++n) {
      const ExampleRef& e = slots[n];
      if (lab.dtype() == INT32) {
        lab.i32()[n] = e.present ? e.label : -1;
        continue;
      }
      for (int64_t j = 0; j < k; ++j) {
        float value = 0.f;
        if (e.present) {
          value = class_labels
                      ? static_cast<float>(e.label)
                      : (j < static_cast<int64_t>(e.label_values.size()) ? e.label_values[j] : 0.f);
        }
        lab.f32()[n * k + j] = value;
      }
    }
  }
  if (weights_ >= 0) {
    float* w = s.value(weights_).f32();
    const int64_t steps = weights_per_step_ ? T : 1;
    for (int64_t t = 0; t < steps; ++t) {
      for (int64_t n = 0; n < N; ++n) {
        const bool on = slots[n].present && (!weights_per_step_ || t < len_of(n));
        std::fill(w + (t * N + n) * k, w + (t * N + n + 1) * k, on ? 1.f : 0.f);
      }
    }
  }
  return stats;
}

int64_t ExampleFeeder::LossCount(const ExampleFile& file, absl::Span<const int64_t> slots) const {
  int64_t count = 0;
  for (int64_t e : slots) {
    if (e < 0) continue;
    if (loss_on_targets_) {
      count += std::min<int64_t>(static_cast<int64_t>(file.targets(e).size()) + 1, T_);
      continue;
    }
    count += loss_per_step_ ? std::min<int64_t>(file.length(e), S_) : 1;
  }
  return count;
}

Score ExampleFeeder::Accuracy(const Session& s) const {
  Score score;
  if (score_kind_ == kNoScore) return score;
  const Tensor logits = s.value(logits_);
  const Tensor labels = s.value(score_labels_);
  const int64_t rows = labels.num_elements();
  if (score_kind_ == kSoftmax) {
    const int64_t v = logits.dim(-1);
    const float* x = logits.f32();
    const int32_t* y = labels.i32();
    for (int64_t r = 0; r < rows; ++r) {
      if (y[r] == ignore_label_) continue;
      const float* row = x + r * v;
      const int64_t best = std::max_element(row, row + v) - row;
      ++score.total;
      score.correct += best == y[r];
    }
    return score;
  }
  const float* x = logits.f32();
  const float* y = labels.f32();
  const float* w = score_weights_ >= 0 ? s.value(score_weights_).f32() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    if (w != nullptr && w[r] <= 0.f) continue;
    ++score.total;
    score.correct += (x[r] > 0.f) == (y[r] >= 0.5f);
  }
  return score;
}

}  // namespace rnnflow
