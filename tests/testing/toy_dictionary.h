// A small pronouncing dictionary in CMUdict's format for tests of pairs
// (sequence-to-sequence) data: words over the letters A-D, each letter
// spelled by one phoneme, so target lengths follow source lengths.
#ifndef RNNFLOW_TESTS_TESTING_TOY_DICTIONARY_H_
#define RNNFLOW_TESTS_TESTING_TOY_DICTIONARY_H_

#include <string>

#include "rnnflow/dataset/example_prepare.h"

namespace rnnflow {

// Writes `words` entries to `path`: word i has 2 + i % `lengths` letters.
void WriteToyDictionary(const std::string& path, int words, int lengths);

// How to prepare it: pairs (word -> phonemes) at character level, 20% of
// the entries for validation, no test split.
ExamplePrepareOptions ToyDictionaryPrepareOptions();

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_TOY_DICTIONARY_H_
