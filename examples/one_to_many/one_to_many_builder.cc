// The first-name generator of examples/one_to_many, built with the C++
// graph-builder API (names_model.h): model.pbtxt, or with --unconditioned
// the baseline of unconditioned.pbtxt.
//
//   build/one_to_many_one_to_many_builder [--unconditioned] --print
//   build/one_to_many_one_to_many_builder --check examples/one_to_many/model.pbtxt
//   build/one_to_many_one_to_many_builder --data data/first-names [--steps N]
#include <string>
#include <vector>

#include "examples/builder_main.h"
#include "examples/one_to_many/names_model.h"

int main(int argc, char** argv) {
  bool conditioned = true;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--unconditioned") {
      conditioned = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  return rnnflow::RunBuilderMain(static_cast<int>(rest.size()), rest.data(),
                                 rnnflow::one_to_many::BuildNamesModel(conditioned));
}
