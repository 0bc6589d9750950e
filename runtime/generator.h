// Text generation from a trained language model: the step graph compiled
// once for T = 1, N = 1, fed one token at a time with its state carried, and
// sampled with temperature and top-k.
#ifndef RNNFLOW_RUNTIME_GENERATOR_H_
#define RNNFLOW_RUNTIME_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "runtime/session.h"

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
  // Graph::params() order. The model needs a `feed: TOKENS` input; the
  // distribution is the logits input of its SoftmaxCrossEntropy loss.
  static absl::StatusOr<std::unique_ptr<Generator>> Create(const Graph& graph,
                                                           absl::Span<const Tensor> params);

  // Feeds `prime` (byte tokens), then samples `length` bytes.
  absl::StatusOr<std::string> Generate(const std::string& prime, const SampleOptions& options);

 private:
  explicit Generator(const Graph& graph) : graph_(graph) {}
  absl::Status Feed(int32_t token);
  int32_t Sample(float temperature, int top_k, std::mt19937_64& rng);

  const Graph& graph_;
  std::unique_ptr<Session> session_;
  int tokens_ = -1, logits_ = -1;
  std::vector<std::pair<float, int32_t>> scratch_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_GENERATOR_H_
