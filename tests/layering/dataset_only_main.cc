// Linked with the dataset layer's objects only (rnnflow_dataset, rnnflow_base,
// Abseil; tests/layering/CMakeLists.txt): prepares a text file as a byte-level
// corpus and reads its first chunk back as token streams. That it links shows
// that the data pipeline needs no protobuf, graph, oneDNN, MPI or OpenMP;
// that none of those is loaded shows that no dependency brought them in.
//
//   dataset_only_prepare TEXT_FILE OUT_DIR
#include <cstdint>
#include <iostream>
#include <vector>

#include "rnnflow/dataset/corpus.h"
#include "rnnflow/dataset/token_streams.h"
#include "tests/layering/loaded_libraries.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: dataset_only_prepare TEXT_FILE OUT_DIR\n";
    return 2;
  }
  auto report = rnnflow::PrepareText(argv[1], argv[2], rnnflow::TextPrepareOptions{});
  if (!report.ok()) {
    std::cerr << report.status().message() << "\n";
    return 1;
  }
  constexpr int64_t kStreams = 2, kSteps = 8;
  auto streams = rnnflow::TokenStreams::OpenPrepared(argv[2], "train", kStreams, kSteps);
  if (!streams.ok()) {
    std::cerr << streams.status().message() << "\n";
    return 1;
  }
  std::vector<int32_t> tokens(kStreams * kSteps), targets(kStreams * kSteps);
  (*streams)->Next(absl::MakeSpan(tokens), absl::MakeSpan(targets));
  int failed = 0;
  // Time-major [T, N]: each target is the same stream's next token.
  for (int64_t t = 0; t + 1 < kSteps; ++t) {
    for (int64_t n = 0; n < kStreams; ++n) {
      if (targets[t * kStreams + n] != tokens[(t + 1) * kStreams + n]) ++failed;
    }
  }
  if (failed > 0) std::cerr << failed << " targets are not the next token\n";
  std::cout << argv[1] << ": " << report->splits[0].tokens << " train tokens\n";
  for (const std::string& library : rnnflow::LoadedLibraries(
           {"libprotobuf", "libdnnl", "libmpi", "libopen-", "libgomp", "libomp"})) {
    std::cerr << "the dataset layer loaded " << library << "\n";
    ++failed;
  }
  return failed == 0 ? 0 : 1;
}
