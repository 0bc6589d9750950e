// The grapheme-to-phoneme encoder-decoder of model.pbtxt, built with the C++
// graph-builder API.
//
//   build/seq2seq_seq2seq_builder --print                 # the model as text
//   build/seq2seq_seq2seq_builder --check model.pbtxt     # same model as the file?
//   build/seq2seq_seq2seq_builder --data DIR [--steps N]  # train on `prepare examples` output
#include "examples/builder_main.h"
#include "rnnflow/graph/builder.h"

namespace {

absl::StatusOr<rnnflow::ModelDef> BuildSeq2Seq() {
  using rnnflow::GraphBuilder;
  using rnnflow::TensorRef;
  constexpr int64_t kChars = 64, kPhonemes = 48, kEmbed = 64, kHidden = 128;
  GraphBuilder b("g2p_lstm");
  // The source has its own time symbol S (bound to the longest word per run); the
  // pronunciation runs over T (truncation_steps: 32 phonemes + end).
  auto chars = b.Input("chars", rnnflow::INT32, {"S", "N"}, rnnflow::EXAMPLE_TOKENS);
  auto chars_len = b.Input("chars_len", rnnflow::INT32, {"N"}, rnnflow::EXAMPLE_LENGTHS);
  auto ph_in = b.Input("ph_in", rnnflow::INT32, {"T", "N"}, rnnflow::EXAMPLE_TARGET_INPUTS);
  auto ph_len = b.Input("ph_len", rnnflow::INT32, {"N"}, rnnflow::EXAMPLE_TARGET_LENGTHS);
  auto ph_out = b.Input("ph_out", rnnflow::INT32, {"T", "N"}, rnnflow::EXAMPLE_TARGET_OUTPUTS);
  auto char_embed =
      b.Node("char_embed", "Embedding", {chars}, {{"vocab", kChars}, {"dim", kEmbed}});
  // The encoder's final states (each word's own, through its length) start the decoder.
  auto enc =
      b.Node("enc", "LSTM", {char_embed, TensorRef::Absent(), TensorRef::Absent(), chars_len},
             {{"hidden", kHidden}});
  auto ph_embed = b.Node("ph_embed", "Embedding", {ph_in}, {{"vocab", kPhonemes}, {"dim", kEmbed}});
  auto dec = b.Node("dec", "LSTM", {ph_embed, enc.out("h_n"), enc.out("c_n"), ph_len},
                    {{"hidden", kHidden}});
  auto logits = b.Node("logits", "Dense", {dec}, {{"units", kPhonemes}});
  auto loss = b.Node("loss", "SoftmaxCrossEntropy", {logits, ph_out});
  b.Output(logits);
  b.Loss(loss);
  rnnflow::TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.003f);
  t.set_clip_global_norm(5);
  t.set_truncation_steps(33);
  t.set_streams_per_worker(64);
  t.set_steps(2500);
  t.set_seed(11);
  return b.Build();
}

}  // namespace

int main(int argc, char** argv) {
  return rnnflow::RunBuilderMain(argc, argv,
                                 [](const rnnflow::ParsedFlags&) { return BuildSeq2Seq(); });
}
