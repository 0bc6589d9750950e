#include "rnnflow/inference/generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {
namespace {

absl::Status CheckSampleOptions(const SampleOptions& options) {
  if (options.temperature > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("SampleOptions::temperature must be > 0; got ", options.temperature));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Generator>> Generator::Create(const Graph& graph,
                                                             absl::Span<const Tensor> params) {
  std::unique_ptr<Generator> g(new Generator(graph));
  for (int id : graph.graph_inputs()) {
    const auto feed = graph.model().input(graph.tensor(id).index).feed();
    if (feed == TOKENS || feed == EXAMPLE_TOKENS) g->tokens_ = id;
    if (feed == EXAMPLE_LENGTHS) g->lengths_ = id;
  }
  if (g->tokens_ < 0) {
    return absl::InvalidArgumentError(
        "generation needs a graph input with `feed: TOKENS` or `feed: EXAMPLE_TOKENS`");
  }
  const int loss = graph.loss();
  if (loss >= 0) {
    const NodeInfo& node = graph.nodes()[graph.tensor(loss).index];
    if (node.def->op() == "SoftmaxCrossEntropy") g->logits_ = node.inputs[0];
  }
  if (g->logits_ < 0) {
    return absl::InvalidArgumentError(
        "generation needs a SoftmaxCrossEntropy loss; its logits give the distribution");
  }
  if (params.size() != graph.params().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", graph.params().size(), " parameters; got ", params.size()));
  }
  SessionOptions options;
  options.bindings = {{"T", 1}, {"N", 1}};
  options.training = false;
  RF_ASSIGN_OR_RETURN(g->session_, Session::Create(graph, options));
  for (size_t p = 0; p < params.size(); ++p) {
    const Tensor& dst = g->session_->params()[p];
    if (params[p].num_elements() != dst.num_elements()) {
      return absl::InvalidArgumentError(absl::StrCat("parameter '", graph.params()[p].name,
                                                     "' has ", params[p].num_elements(),
                                                     " values; expected ", dst.num_elements()));
    }
    std::memcpy(dst.data(), params[p].data(), dst.num_bytes());
  }
  if (g->lengths_ >= 0) g->session_->value(g->lengths_).i32()[0] = 1;
  return g;
}

int64_t Generator::output_size() const { return session_->value(logits_).dim(-1); }

absl::Status Generator::Feed(int32_t token) {
  session_->value(tokens_).i32()[0] = token;
  RF_RETURN_IF_ERROR(session_->Forward());
  session_->CarryStates();
  return absl::OkStatus();
}

int32_t Generator::Sample(float temperature, int top_k, std::mt19937_64& rng) {
  const Tensor logits = session_->value(logits_);
  const int64_t vocab = logits.dim(-1);
  scratch_.resize(vocab);
  for (int64_t v = 0; v < vocab; ++v) {
    scratch_[v] = {logits.f32()[v] / temperature, static_cast<int32_t>(v)};
  }
  int64_t keep = vocab;
  if (top_k > 0 && top_k < vocab) {
    keep = top_k;
    std::partial_sort(scratch_.begin(), scratch_.begin() + keep, scratch_.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  float max_logit = -INFINITY;
  for (int64_t v = 0; v < keep; ++v) max_logit = std::max(max_logit, scratch_[v].first);
  double total = 0;
  for (int64_t v = 0; v < keep; ++v) {
    scratch_[v].first = std::exp(scratch_[v].first - max_logit);
    total += scratch_[v].first;
  }
  double u = std::uniform_real_distribution<double>(0.0, total)(rng);
  for (int64_t v = 0; v < keep; ++v) {
    u -= scratch_[v].first;
    if (u <= 0) return scratch_[v].second;
  }
  return scratch_[keep - 1].second;
}

absl::StatusOr<std::string> Generator::Generate(const std::string& prime,
                                                const SampleOptions& options) {
  RF_RETURN_IF_ERROR(CheckSampleOptions(options));
  session_->ResetStates();
  std::mt19937_64 rng(options.seed);
  const std::string start = prime.empty() ? std::string("\n") : prime;
  for (unsigned char c : start) RF_RETURN_IF_ERROR(Feed(c));
  std::string out;
  out.reserve(options.length);
  for (int64_t i = 0; i < options.length; ++i) {
    const int32_t token = Sample(options.temperature, options.top_k, rng);
    out.push_back(static_cast<char>(token));
    RF_RETURN_IF_ERROR(Feed(token));
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> Generator::GenerateIds(
    absl::Span<const int32_t> prime, absl::Span<const int32_t> output_to_input, int32_t stop,
    const SampleOptions& options) {
  RF_RETURN_IF_ERROR(CheckSampleOptions(options));
  if (prime.empty()) return absl::InvalidArgumentError("the prime needs at least one id");
  const int64_t outputs = output_size();
  const int64_t mapped = static_cast<int64_t>(output_to_input.size());
  if (mapped > outputs || stop < 0 || stop >= mapped) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model has ", outputs, " output ids; got a map of ", mapped, " and stop id ", stop));
  }
  session_->ResetStates();
  std::mt19937_64 rng(options.seed);
  for (int32_t id : prime) RF_RETURN_IF_ERROR(Feed(id));
  std::vector<int32_t> out;
  for (int64_t i = 0; i < options.length; ++i) {
    const int32_t id = Sample(options.temperature, options.top_k, rng);
    out.push_back(id);
    if (id == stop) break;
    if (id >= mapped || output_to_input[id] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("output id ", id, " has no input id to feed back"));
    }
    RF_RETURN_IF_ERROR(Feed(output_to_input[id]));
  }
  return out;
}

}  // namespace rnnflow
