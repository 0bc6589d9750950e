#include "tests/testing/tiny_lm.h"

#include <fstream>

#include "gtest/gtest.h"

namespace rnnflow {

const char kTinyLmModel[] = R"(
format_version: 1
name: "tiny_lm"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 16 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 32 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } clip_global_norm: 5
           truncation_steps: 16 streams_per_worker: 8 seed: 3 }
)";

std::string WriteTinyLmCorpus(const std::string& name) {
  std::string text;
  while (text.size() < 60000) text += kTinyLmCycle;
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace rnnflow
