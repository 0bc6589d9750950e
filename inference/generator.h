// Generation from a trained model: the step graph compiled once for T = 1,
// N = 1, fed one token at a time with its state carried, and sampled with
// temperature and top-k. Byte language models (`feed: TOKENS`) generate text;
// models over a prepared vocabulary (`feed: EXAMPLE_TOKENS`, e.g. a
// conditioned generator whose first input is a class token) generate ids.
#ifndef RNNFLOW_INFERENCE_GENERATOR_H_
#define RNNFLOW_INFERENCE_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"

namespace rnnflow {

struct SampleOptions {
  int64_t length = 200;      // tokens to generate after the prime
  float temperature = 1.0f;  // > 0; lower is more conservative
  int top_k = 0;             // 0: sample from the whole distribution
  uint64_t seed = 1;
};

class Generator {
 public:
  // `params` are copied (e.g. from a training session or a checkpoint), in
  // Graph::params() order. The model needs a `feed: TOKENS` or `feed:
  // EXAMPLE_TOKENS` input (an EXAMPLE_LENGTHS input is fed 1); the
  // distribution is the logits input of its SoftmaxCrossEntropy loss.
  static absl::StatusOr<std::unique_ptr<Generator>> Create(const Graph& graph,
                                                           absl::Span<const Tensor> params);

  // Feeds `prime` (byte tokens), then samples `length` bytes.
  absl::StatusOr<std::string> Generate(const std::string& prime, const SampleOptions& options);

  // Feeds the input ids `prime` (at least one), then samples up to
  // options.length output ids, stopping after `stop` (>= 0; included in the
  // result). Output id o is fed back as input id `output_to_input[o]` (the
  // model's targets may have their own vocabulary, e.g. tags; the map may be
  // shorter than the model's outputs when the data uses fewer); sampling an
  // output without an input id (-1 or past the map) other than `stop` is an
  // error. top_k = 1 is greedy decoding.
  absl::StatusOr<std::vector<int32_t>> GenerateIds(absl::Span<const int32_t> prime,
                                                   absl::Span<const int32_t> output_to_input,
                                                   int32_t stop, const SampleOptions& options);
  // Output classes of the distribution (the logits' last dimension).
  int64_t output_size() const;
  // The T = 1, N = 1 session. Inputs other than the tokens keep what the
  // caller writes into them (session().input(name)) across every step: a
  // conditioned generator's class, say.
  Session& session() { return *session_; }

 private:
  explicit Generator(const Graph& graph) : graph_(graph) {}
  absl::Status Feed(int32_t token);
  int32_t Sample(float temperature, int top_k, std::mt19937_64& rng);

  const Graph& graph_;
  std::unique_ptr<Session> session_;
  int tokens_ = -1, lengths_ = -1, logits_ = -1;
  std::vector<std::pair<float, int32_t>> scratch_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_GENERATOR_H_
