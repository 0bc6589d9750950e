// The first-name generator of examples/one_to_many, built with the C++
// graph-builder API (names_model.h): model.pbtxt, or with --unconditioned
// the baseline of unconditioned.pbtxt.
//
//   build/one_to_many_one_to_many_builder [--unconditioned] --print
//   build/one_to_many_one_to_many_builder --check examples/one_to_many/model.pbtxt
//   build/one_to_many_one_to_many_builder --data data/first-names [--steps N]
#include "examples/builder_main.h"
#include "examples/one_to_many/names_model.h"

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(
      argc, argv,
      [](const rnnflow::ParsedFlags& flags) {
        return rnnflow::one_to_many::BuildNamesModel(/*conditioned=*/!flags.Has("unconditioned"));
      },
      {{"unconditioned", "", "the baseline without the gender input (unconditioned.pbtxt)"}});
}
