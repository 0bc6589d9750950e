#include "rnnflow/inference/seq2seq_decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/source_map.h"

namespace rnnflow {
namespace {

Feed FeedOf(const Graph& g, int tensor) {
  const TensorInfo& t = g.tensor(tensor);
  if (t.source != TensorSource::kGraphInput) return FEED_NONE;
  return g.model().input(t.index).feed();
}

bool IsFusedRecurrent(const std::string& op) { return op == "RNN" || op == "LSTM" || op == "GRU"; }

// A graph input with the symbolic shape of tensor `t`.
InputDef InputLike(const std::string& name, const TensorInfo& t) {
  InputDef in;
  in.set_name(name);
  in.set_dtype(t.dtype);
  for (const Dim& d : t.shape) in.add_dim(d.known() ? absl::StrCat(d.size) : d.symbol);
  return in;
}

// Nodes whose outputs `roots` depend on (through node outputs only).
std::set<int> AncestorNodes(const Graph& g, const std::vector<int>& roots) {
  std::set<int> seen;
  std::vector<int> stack = roots;
  while (!stack.empty()) {
    const int t = stack.back();
    stack.pop_back();
    if (t < 0 || g.tensor(t).source != TensorSource::kNodeOutput) continue;
    const int n = g.tensor(t).index;
    if (!seen.insert(n).second) continue;
    const NodeInfo& node = g.nodes()[n];
    for (int k = 0; k < node.num_declared_inputs; ++k) stack.push_back(node.inputs[k]);
  }
  return seen;
}

}  // namespace

absl::StatusOr<Seq2SeqParts> SplitSeq2Seq(const Graph& g) {
  const ModelDef& model = g.model();
  if (model.state_size() > 0 || model.param_size() > 0) {
    return absl::InvalidArgumentError(
        "decoding cuts the model into encoder and step graphs; models with `state` or `param` "
        "blocks are not supported");
  }
  Seq2SeqParts parts;
  int target_in = -1;
  for (int id : g.graph_inputs()) {
    const Feed f = FeedOf(g, id);
    if (f == EXAMPLE_TOKENS) parts.source_tokens = g.tensor(id).name;
    if (f == EXAMPLE_LENGTHS) parts.source_lengths = g.tensor(id).name;
    if (f == EXAMPLE_TARGET_INPUTS) target_in = id;
  }
  if (parts.source_tokens.empty() || target_in < 0) {
    return absl::InvalidArgumentError(
        "decoding needs a pairs model: graph inputs fed EXAMPLE_TOKENS (source) and "
        "EXAMPLE_TARGET_INPUTS (decoder input)");
  }
  const int loss = g.loss();
  if (loss < 0 || g.tensor(loss).source != TensorSource::kNodeOutput ||
      g.nodes()[g.tensor(loss).index].def->op() != "SoftmaxCrossEntropy") {
    return absl::InvalidArgumentError(
        "decoding needs a SoftmaxCrossEntropy loss; its logits give the next-token distribution");
  }
  const int logits = g.nodes()[g.tensor(loss).index].inputs[0];
  parts.step_logits = g.tensor(logits).name;

  // Step nodes: ancestors of the logits that depend on the decoder input.
  const std::set<int> to_logits = AncestorNodes(g, {logits});
  // Whether a tensor depends on the decoder input (memoised per node: 1 yes, 0 no).
  std::vector<int> depends_memo(g.nodes().size(), -1);
  std::function<bool(int)> depends = [&](int t) -> bool {
    if (t == target_in) return true;
    if (t < 0 || g.tensor(t).source != TensorSource::kNodeOutput) return false;
    const int n = g.tensor(t).index;
    if (depends_memo[n] >= 0) return depends_memo[n] == 1;
    depends_memo[n] = 0;
    const NodeInfo& node = g.nodes()[n];
    for (int k = 0; k < node.num_declared_inputs; ++k) {
      if (depends(node.inputs[k])) {
        depends_memo[n] = 1;
        break;
      }
    }
    return depends_memo[n] == 1;
  };
  std::set<int> step_nodes;
  for (int n : to_logits) {
    if (depends(g.nodes()[n].outputs[0])) step_nodes.insert(n);
  }

  // Tensors the step nodes read from outside: decoder inputs or hand-offs.
  std::vector<int> boundary;
  absl::flat_hash_map<int, std::string> renamed;  // boundary tensor -> step input name
  std::set<int> step_inputs;
  for (int n : step_nodes) {
    const NodeInfo& node = g.nodes()[n];
    for (int k = 0; k < node.num_declared_inputs; ++k) {
      const int t = node.inputs[k];
      if (t < 0) continue;
      const TensorInfo& ti = g.tensor(t);
      if (ti.source == TensorSource::kNodeOutput && step_nodes.count(ti.index)) continue;
      if (ti.source == TensorSource::kGraphInput) {
        const Feed f = FeedOf(g, t);
        if (f != EXAMPLE_TARGET_INPUTS && f != EXAMPLE_TARGET_LENGTHS) {
          return absl::InvalidArgumentError(absl::StrCat(
              "decoder node '", node.def->name(), "' reads graph input '", ti.name,
              "'; a decoder may read only EXAMPLE_TARGET_INPUTS, EXAMPLE_TARGET_LENGTHS and "
              "the encoder's final states"));
        }
        step_inputs.insert(t);
        continue;
      }
      if (ti.source != TensorSource::kNodeOutput) continue;  // parameters
      const std::string& op = node.def->op();
      const bool state_slot = IsFusedRecurrent(op) && (k == 1 || (k == 2 && op == "LSTM"));
      if (!state_slot) {
        return absl::InvalidArgumentError(
            absl::StrCat("decoder node '", node.def->name(), "' (", op, ") reads '", ti.name,
                         "' from the encoder as input ", k,
                         "; decoding supports encoder tensors only as the h0/c0 input of a fused "
                         "RNN/LSTM/GRU node"));
      }
      const NodeInfo& producer = g.nodes()[ti.index];
      const std::string name =
          absl::StrCat(producer.def->name(), "_", producer.schema->outputs()[ti.output].name);
      if (!renamed.contains(t)) {
        renamed[t] = name;
        boundary.push_back(t);
        parts.handoffs.push_back({ti.name, name, absl::StrCat(node.def->name(), ":", k)});
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("encoder tensor '", ti.name,
                         "' feeds more than one decoder state; decoding needs "
                         "one decoder state per hand-off"));
      }
    }
  }
  if (boundary.empty()) {
    return absl::InvalidArgumentError(
        "the decoder reads no encoder state (wire the encoder's h_n/c_n into the decoder's "
        "h0/c0)");
  }

  // The encoder: what the hand-offs depend on.
  const std::set<int> encoder_nodes = AncestorNodes(g, boundary);
  std::set<int> encoder_inputs;
  for (int n : encoder_nodes) {
    if (step_nodes.count(n)) {
      return absl::InvalidArgumentError(absl::StrCat("node '", g.nodes()[n].def->name(),
                                                     "' is both in the encoder and the decoder"));
    }
    const NodeInfo& node = g.nodes()[n];
    for (int k = 0; k < node.num_declared_inputs; ++k) {
      const int t = node.inputs[k];
      if (t >= 0 && g.tensor(t).source == TensorSource::kGraphInput) encoder_inputs.insert(t);
    }
  }

  parts.encoder.set_format_version(model.format_version());
  parts.encoder.set_name(model.name() + "_encoder");
  parts.step.set_format_version(model.format_version());
  parts.step.set_name(model.name() + "_step");
  for (int id : g.graph_inputs()) {
    if (encoder_inputs.count(id)) *parts.encoder.add_input() = model.input(g.tensor(id).index);
    if (step_inputs.count(id)) {
      *parts.step.add_input() = model.input(g.tensor(id).index);
      if (FeedOf(g, id) == EXAMPLE_TARGET_INPUTS) parts.step_tokens = g.tensor(id).name;
      if (FeedOf(g, id) == EXAMPLE_TARGET_LENGTHS) parts.step_lengths = g.tensor(id).name;
    }
  }
  if (!encoder_inputs.count(g.FindTensor(parts.source_tokens))) {
    return absl::InvalidArgumentError("the encoder does not read the EXAMPLE_TOKENS input");
  }
  if (!parts.source_lengths.empty() && !encoder_inputs.count(g.FindTensor(parts.source_lengths))) {
    parts.source_lengths.clear();
  }
  for (int t : boundary) *parts.step.add_input() = InputLike(renamed[t], g.tensor(t));
  for (int n = 0; n < model.node_size(); ++n) {
    if (encoder_nodes.count(n)) *parts.encoder.add_node() = model.node(n);
    if (!step_nodes.count(n)) continue;
    NodeDef* def = parts.step.add_node();
    *def = model.node(n);
    const NodeInfo& node = g.nodes()[n];
    for (int k = 0; k < node.num_declared_inputs && k < def->input_size(); ++k) {
      auto it = renamed.find(node.inputs[k]);
      if (it != renamed.end()) def->set_input(k, it->second);
    }
  }
  for (const auto& h : parts.handoffs) parts.encoder.add_output(h.encoder_output);
  parts.step.add_output(parts.step_logits);
  return parts;
}

absl::StatusOr<std::unique_ptr<Seq2SeqDecoder>> Seq2SeqDecoder::Create(
    const Graph& graph, absl::Span<const Tensor> params, int64_t max_source_length, int64_t sources,
    int beam) {
  if (max_source_length < 1 || sources < 1 || beam < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("decoder sizes must be positive: max source length ", max_source_length,
                     ", sources ", sources, ", beam ", beam));
  }
  if (params.size() != graph.params().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", graph.params().size(), " parameters; got ", params.size()));
  }
  std::unique_ptr<Seq2SeqDecoder> d(new Seq2SeqDecoder());
  RF_ASSIGN_OR_RETURN(d->parts_, SplitSeq2Seq(graph));
  d->sources_ = sources;
  d->beam_ = beam;
  d->max_source_ = max_source_length;
  GraphOptions no_loss;
  no_loss.require_loss = false;
  RF_ASSIGN_OR_RETURN(d->encoder_graph_,
                      Graph::Build(d->parts_.encoder, SourceMap("<encoder>"), no_loss));
  RF_ASSIGN_OR_RETURN(d->step_graph_, Graph::Build(d->parts_.step, SourceMap("<step>"), no_loss));
  // The encoder runs over the source's time symbol (S, or T in a one-symbol
  // model), the step graph one step of the target's.
  SessionOptions eo;
  eo.bindings = {{"N", sources}};
  for (const std::string& t : d->encoder_graph_.time_symbols()) eo.bindings[t] = max_source_length;
  eo.training = false;
  RF_ASSIGN_OR_RETURN(d->encoder_, Session::Create(d->encoder_graph_, eo));
  SessionOptions so;
  so.bindings = {{"N", sources * beam}};
  for (const std::string& t : d->step_graph_.time_symbols()) so.bindings[t] = 1;
  so.training = false;
  RF_ASSIGN_OR_RETURN(d->step_, Session::Create(d->step_graph_, so));

  absl::flat_hash_map<std::string, size_t> by_name;
  for (size_t p = 0; p < graph.params().size(); ++p) by_name[graph.params()[p].name] = p;
  for (Session* s : {d->encoder_.get(), d->step_.get()}) {
    const auto& infos = s->graph().params();
    for (size_t p = 0; p < infos.size(); ++p) {
      auto it = by_name.find(infos[p].name);
      const Tensor& dst = s->params()[p];
      if (it == by_name.end() || params[it->second].num_elements() != dst.num_elements()) {
        return absl::InternalError(
            absl::StrCat("parameter '", infos[p].name, "' of the cut graph has no match"));
      }
      std::memcpy(dst.data(), params[it->second].data(), dst.num_bytes());
    }
  }
  const Graph& eg = d->encoder_graph_;
  const Graph& sg = d->step_graph_;
  d->src_tokens_ = eg.FindTensor(d->parts_.source_tokens);
  d->src_lengths_ = d->parts_.source_lengths.empty() ? -1 : eg.FindTensor(d->parts_.source_lengths);
  d->step_tokens_ = sg.FindTensor(d->parts_.step_tokens);
  d->step_lengths_ = d->parts_.step_lengths.empty() ? -1 : sg.FindTensor(d->parts_.step_lengths);
  d->logits_ = sg.FindTensor(d->parts_.step_logits);
  for (const auto& h : d->parts_.handoffs) {
    d->states_.push_back(
        {eg.FindTensor(h.encoder_output), sg.FindTensor(h.step_input), sg.FindTensor(h.step_next)});
  }
  const Tensor logits = d->step_->value(d->logits_);
  d->vocab_ = logits.dim(-1);
  if (logits.num_elements() != d->rows() * d->vocab_) {
    return absl::InvalidArgumentError(
        absl::StrCat("the logits '", d->parts_.step_logits, "' must be [T, N, V]; got ",
                     logits.num_elements(), " values for ", d->rows(), " rows"));
  }
  if (d->step_lengths_ >= 0) {
    int32_t* l = d->step_->value(d->step_lengths_).i32();
    std::fill(l, l + d->rows(), 1);
  }
  return d;
}

absl::Status Seq2SeqDecoder::Encode(const std::vector<std::vector<int32_t>>& sources) {
  if (static_cast<int64_t>(sources.size()) > sources_) {
    return absl::InvalidArgumentError(
        absl::StrCat(sources.size(), " sources for a decoder of ", sources_));
  }
  const int64_t T = max_source_, N = sources_;
  int32_t* x = encoder_->value(src_tokens_).i32();
  std::fill(x, x + T * N, 0);
  std::vector<int32_t> len(N, 1);
  for (size_t n = 0; n < sources.size(); ++n) {
    len[n] = static_cast<int32_t>(
        std::max<int64_t>(1, std::min<int64_t>(T, static_cast<int64_t>(sources[n].size()))));
    for (int64_t t = 0; t < std::min<int64_t>(T, sources[n].size()); ++t) {
      x[t * N + n] = sources[n][t];
    }
  }
  if (src_lengths_ >= 0) std::copy(len.begin(), len.end(), encoder_->value(src_lengths_).i32());
  encoder_->ResetStates();
  RF_RETURN_IF_ERROR(encoder_->Forward());
  for (const State& s : states_) {
    const Tensor from = encoder_->value(s.encoder_output);  // [L, N, H]
    const Tensor to = step_->value(s.step_input);           // [L, N * K, H]
    const int64_t L = from.dim(0), H = from.dim(2);
    for (int64_t l = 0; l < L; ++l) {
      for (int64_t n = 0; n < N; ++n) {
        const float* src = from.f32() + (l * N + n) * H;
        for (int64_t k = 0; k < beam_; ++k) {
          std::copy(src, src + H, to.f32() + (l * N * beam_ + n * beam_ + k) * H);
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Seq2SeqDecoder::Step(absl::Span<const int32_t> tokens, absl::Span<float> log_probs) {
  const int64_t R = rows(), V = vocab_;
  if (static_cast<int64_t>(tokens.size()) != R || static_cast<int64_t>(log_probs.size()) != R * V) {
    return absl::InvalidArgumentError(
        absl::StrCat("a step takes ", R, " tokens and ", R * V, " log-probabilities"));
  }
  int32_t* x = step_->value(step_tokens_).i32();
  for (int64_t r = 0; r < R; ++r) {
    if (tokens[r] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("token ", tokens[r], " in row ", r));
    }
    x[r] = tokens[r];
  }
  RF_RETURN_IF_ERROR(step_->Forward());
  const float* z = step_->value(logits_).f32();
  for (int64_t r = 0; r < R; ++r) {
    const float* row = z + r * V;
    const float m = *std::max_element(row, row + V);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v] - m));
    const float log_sum = m + static_cast<float>(std::log(sum));
    for (int64_t v = 0; v < V; ++v) log_probs[r * V + v] = row[v] - log_sum;
  }
  // The next step starts from this step's final states.
  for (const State& s : states_) {
    const Tensor next = step_->value(s.step_next);
    std::memcpy(step_->value(s.step_input).data(), next.data(), next.num_bytes());
  }
  return absl::OkStatus();
}

absl::Status Seq2SeqDecoder::Reorder(absl::Span<const int64_t> parent) {
  const int64_t R = rows();
  if (static_cast<int64_t>(parent.size()) != R) {
    return absl::InvalidArgumentError(absl::StrCat("reorder takes ", R, " parents"));
  }
  for (const State& s : states_) {
    const Tensor st = step_->value(s.step_input);  // [L, R, H]
    const int64_t L = st.dim(0), H = st.dim(2);
    scratch_.assign(st.f32(), st.f32() + L * R * H);
    for (int64_t l = 0; l < L; ++l) {
      for (int64_t r = 0; r < R; ++r) {
        if (parent[r] < 0 || parent[r] >= R) {
          return absl::InvalidArgumentError(absl::StrCat("parent ", parent[r], " of row ", r));
        }
        const float* src = scratch_.data() + (l * R + parent[r]) * H;
        std::copy(src, src + H, st.f32() + (l * R + r) * H);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hypothesis>> DecodeAll(Seq2SeqDecoder& decoder,
                                                  const std::vector<std::vector<int32_t>>& sources,
                                                  DecodeOptions options) {
  options.beam = decoder.beam();
  const int64_t B = decoder.sources();
  std::vector<Hypothesis> out;
  out.reserve(sources.size());
  for (size_t begin = 0; begin < sources.size(); begin += B) {
    const size_t end = std::min(sources.size(), begin + static_cast<size_t>(B));
    std::vector<std::vector<int32_t>> batch(sources.begin() + begin, sources.begin() + end);
    RF_RETURN_IF_ERROR(decoder.Encode(batch));
    if (options.beam == 1) {
      RF_ASSIGN_OR_RETURN(std::vector<Hypothesis> best, GreedyDecode(decoder, B, options));
      for (size_t i = 0; i < batch.size(); ++i) out.push_back(std::move(best[i]));
    } else {
      options.nbest = 1;
      RF_ASSIGN_OR_RETURN(auto best, BeamSearch(decoder, B, options));
      for (size_t i = 0; i < batch.size(); ++i) {
        out.push_back(best[i].empty() ? Hypothesis() : std::move(best[i][0]));
      }
    }
  }
  return out;
}

}  // namespace rnnflow
