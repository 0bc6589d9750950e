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
#include "examples/builder_main.h"
#include "examples/vanilla_vs_gated/adding_model.h"

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(
      argc, argv,
      [](const rnnflow::ParsedFlags& flags) -> absl::StatusOr<rnnflow::ModelDef> {
        auto cell = flags.GetParsed("cell", "lstm", rnnflow::vanilla_vs_gated::ParseCell);
        if (!cell.ok()) return cell.status();
        return rnnflow::vanilla_vs_gated::BuildAddingModel(*cell);
      },
      {{"cell", "NAME", "rnn_tanh, rnn_relu, gru or lstm (default; model.pbtxt's)"}});
}
