// The custom-cell char-LM of model.pbtxt, built with the C++ graph-builder
// API: the textbook Elman cell from primitive ops, with its recurrence
// declared as a state.
//
//   build/custom_cell_custom_cell_builder --print                # the model as text
//   build/custom_cell_custom_cell_builder --check model.pbtxt    # same model as the file?
//   build/custom_cell_custom_cell_builder --data corpus.txt [--steps N]   # train it
#include "examples/builder_main.h"
#include "rnnflow/graph/builder.h"

namespace {

absl::StatusOr<rnnflow::ModelDef> BuildCustomCell() {
  using rnnflow::GraphBuilder;
  constexpr int64_t kEmbed = 64, kHidden = 256;
  GraphBuilder b("custom_cell");
  auto tokens = b.Input("tokens", rnnflow::INT32, {"T", "N"}, rnnflow::TOKENS);
  auto targets = b.Input("targets", rnnflow::INT32, {"T", "N"}, rnnflow::NEXT_TOKENS);
  rnnflow::InitializerDef init;  // torch.nn.RNN's: uniform(1/sqrt(H))
  init.set_kind("uniform");
  init.set_scale(0.0625f);
  auto w_xh = b.Param("W_xh", {kEmbed, kHidden}, init);
  auto w_hh = b.Param("W_hh", {kHidden, kHidden}, init);
  auto b_h = b.Param("b_h", {kHidden}, init);
  // h at step t is h_t of step t - 1.
  auto h = b.State("h", {"N", kHidden}, "h_t");
  auto embed = b.Node("embed", "Embedding", {tokens},
                      {{"vocab", 256}, {"dim", kEmbed}, {"init", "normal"}, {"init_scale", 1.0f}});
  auto xw = b.Node("xw", "MatMul", {embed, w_xh});
  auto hw = b.Node("hw", "MatMul", {h, w_hh});
  auto pre = b.Node("pre", "Add", {xw, hw});
  auto pre_b = b.Node("pre_b", "Add", {pre, b_h});
  auto h_t = b.Node("h_t", "Tanh", {pre_b});
  auto logits = b.Node("logits", "Dense", {h_t}, {{"units", 256}});
  auto loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, targets});
  b.Output(logits);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.002f);
  t.mutable_learning_rate()->set_schedule("constant");
  t.set_clip_global_norm(5);
  t.set_truncation_steps(64);
  t.set_streams_per_worker(64);
  t.set_steps(600);
  t.set_seed(1);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(argc, argv,
                                 [](const rnnflow::ParsedFlags&) { return BuildCustomCell(); });
}
