// A tiny byte-level LSTM language model and a generated corpus it can learn
// only by carrying context, shared by the trainer and generator tests.
#ifndef RNNFLOW_TESTS_TESTING_TINY_LM_H_
#define RNNFLOW_TESTS_TESTING_TINY_LM_H_

#include <string>

namespace rnnflow {

// Embedding 16 -> LSTM 32 -> Dense 256 -> softmax cross-entropy; Adam 0.01,
// clipping 5, T = 16, N = 8, seed 3.
extern const char kTinyLmModel[];

// The cycle "abacabadabae" repeated to 60,000 bytes: "aba" is followed by c,
// d or e depending on the symbol before it, so the next byte is a function
// of the previous four and no bigram or trigram model reaches zero loss.
inline constexpr char kTinyLmCycle[] = "abacabadabae";

// Writes that corpus to `name` in the test's temporary folder; returns the path.
std::string WriteTinyLmCorpus(const std::string& name);

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_TINY_LM_H_
