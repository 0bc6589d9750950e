#include "tests/testing/toy_dictionary.h"

#include <fstream>

namespace rnnflow {

void WriteToyDictionary(const std::string& path, int words, int lengths) {
  std::ofstream out(path);
  const char* kPhonemes[] = {"AA", "B", "K", "D"};
  for (int i = 0; i < words; ++i) {
    std::string word, phonemes;
    for (int k = 0; k < 2 + i % lengths; ++k) {
      word += static_cast<char>('A' + (i + k) % 4);
      phonemes += std::string(k ? " " : "") + kPhonemes[(i + k) % 4];
    }
    out << word << "  " << phonemes << "\n";
  }
}

ExamplePrepareOptions ToyDictionaryPrepareOptions() {
  ExamplePrepareOptions p;
  p.format = "cmudict";
  p.fields.label = "";
  p.fields.target = "phonemes";
  p.label_kind = LabelKind::kNone;
  p.rules.level = TokenLevel::kChar;
  p.valid_fraction = 0.2;
  p.test_fraction = 0;
  return p;
}

}  // namespace rnnflow
