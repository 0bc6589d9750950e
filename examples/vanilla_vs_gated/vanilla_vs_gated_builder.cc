// The adding-problem models of examples/vanilla_vs_gated, built with the C++
// graph-builder API (adding_model.h); `--cell` picks one (default lstm, the
// model of model.pbtxt):
//
//   build/vanilla_vs_gated_vanilla_vs_gated_builder [--cell gru] --print
//   build/vanilla_vs_gated_vanilla_vs_gated_builder --cell gru --check gru.pbtxt
//   build/vanilla_vs_gated_vanilla_vs_gated_builder --data DIR [--steps N]
//       (DIR from `vanilla_vs_gated_adding generate --length 50`: the
//       models' T is 50, so train other lengths with `rnnflow train
//       --truncation-steps L`)
#include <iostream>
#include <string>
#include <vector>

#include "examples/builder_main.h"
#include "examples/vanilla_vs_gated/adding_model.h"

int main(int argc, char** argv) {
  using rnnflow::vanilla_vs_gated::Cell;
  Cell cell = Cell::kLstm;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--cell" && i + 1 < argc) {
      auto parsed = rnnflow::vanilla_vs_gated::ParseCell(argv[++i]);
      if (!parsed.ok()) {
        std::cerr << parsed.status().message() << "\n";
        return 2;
      }
      cell = *parsed;
    } else {
      rest.push_back(argv[i]);
    }
  }
  return rnnflow::RunBuilderMain(static_cast<int>(rest.size()), rest.data(),
                                 rnnflow::vanilla_vs_gated::BuildAddingModel(cell));
}
