// Decoding a trained encoder-decoder (a pairs model fed EXAMPLE_TOKENS and
// EXAMPLE_TARGET_INPUTS, examples/seq2seq) without the teacher: the training
// graph is cut into two graphs that share its parameters by name,
//
//   encoder  the nodes the decoder's initial states come from, compiled for
//            the source's time symbol (S, or T in a one-symbol model) = the
//            longest source and N = sources: run once per batch;
//   step     the decoder nodes that lead to the loss's logits, compiled once
//            for the target's T = 1 and N = sources x beam rows; the tensors it read from
//            the encoder become graph inputs ("<node>_<output>", e.g.
//            enc_h_n) that hold each row's state between steps.
//
// What the cut supports: every tensor the decoder reads from the encoder
// must be the h0 (or, for LSTM, c0) input of a fused RNN/LSTM/GRU node of
// the decoder; the next step's value is that node's h_n (c_n). No custom
// `state` blocks and no explicit `param` blocks. The target-lengths input,
// when present, is fed 1 at every step. Log-probabilities are the
// log-softmax of the loss's logits (SoftmaxCrossEntropy).
#ifndef RNNFLOW_INFERENCE_SEQ2SEQ_DECODER_H_
#define RNNFLOW_INFERENCE_SEQ2SEQ_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/inference/beam_search.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/session.h"

namespace rnnflow {

struct Seq2SeqParts {
  ModelDef encoder;
  ModelDef step;
  struct Handoff {
    std::string encoder_output;  // tensor of the encoder graph (e.g. "enc:1")
    std::string step_input;      // graph input of the step graph (e.g. "enc_h_n")
    std::string step_next;       // its value after a step (e.g. "dec:1")
  };
  std::vector<Handoff> handoffs;
  std::string source_tokens, source_lengths;  // encoder inputs (lengths may be empty)
  std::string step_tokens, step_lengths;      // step inputs (lengths may be empty)
  std::string step_logits;
};

// Cuts a pairs model as described above; errors say what is unsupported.
absl::StatusOr<Seq2SeqParts> SplitSeq2Seq(const Graph& graph);

class Seq2SeqDecoder : public StepModel {
 public:
  // `params`: the training graph's parameters (Graph::params() order).
  // Sources longer than `max_source_length` keep their first tokens.
  static absl::StatusOr<std::unique_ptr<Seq2SeqDecoder>> Create(const Graph& graph,
                                                                absl::Span<const Tensor> params,
                                                                int64_t max_source_length,
                                                                int64_t sources, int beam);

  int64_t sources() const { return sources_; }
  int beam() const { return beam_; }
  // Runs the encoder over up to sources() token sequences (source-vocab ids)
  // and gives each of a source's `beam` rows its final state.
  absl::Status Encode(const std::vector<std::vector<int32_t>>& sources);

  int64_t vocab() const override { return vocab_; }
  int64_t rows() const override { return sources_ * beam_; }
  absl::Status Step(absl::Span<const int32_t> tokens, absl::Span<float> log_probs) override;
  absl::Status Reorder(absl::Span<const int64_t> parent) override;

 private:
  Seq2SeqDecoder() = default;

  Seq2SeqParts parts_;
  Graph encoder_graph_, step_graph_;
  std::unique_ptr<Session> encoder_, step_;
  int64_t sources_ = 0, max_source_ = 0, vocab_ = 0;
  int beam_ = 1;
  int src_tokens_ = -1, src_lengths_ = -1, step_tokens_ = -1, step_lengths_ = -1, logits_ = -1;
  struct State {
    int encoder_output, step_input, step_next;
  };
  std::vector<State> states_;
  std::vector<float> scratch_;
};

// Decodes `sources` in batches of decoder.sources(): greedy when the
// decoder's beam is 1, else beam search with options.beam = decoder.beam().
// One best hypothesis per source, in order.
absl::StatusOr<std::vector<Hypothesis>> DecodeAll(Seq2SeqDecoder& decoder,
                                                  const std::vector<std::vector<int32_t>>& sources,
                                                  DecodeOptions options);

}  // namespace rnnflow

#endif  // RNNFLOW_INFERENCE_SEQ2SEQ_DECODER_H_
