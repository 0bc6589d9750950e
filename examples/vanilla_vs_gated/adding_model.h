// The adding-problem regressor of examples/vanilla_vs_gated, one model per
// recurrent cell, all of the same hidden width:
//
//   x [T, N, 2] (value, marker) -> RNN(tanh) | RNN(relu) | GRU | LSTM, H = 64
//   -> the final hidden state h_n [1, N, H] -> Dense(1) -> the predicted sum
//   -> mean squared error against the target, weighted (empty batch slots 0)
//
// model.pbtxt is the LSTM; rnn_tanh.pbtxt, rnn_relu.pbtxt and gru.pbtxt the
// others (tests/vanilla_vs_gated_example_test.cc checks every file against
// BuildAddingModel). T is the sequence length: train with T equal to the
// generated length (`--truncation-steps L`), so that h_n is the state after
// the last value.
#ifndef RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_MODEL_H_
#define RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_MODEL_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "rnnflow/graph/builder.h"

namespace rnnflow::vanilla_vs_gated {

enum class Cell { kRnnTanh, kRnnRelu, kGru, kLstm };
inline constexpr std::array<Cell, 4> kCells = {Cell::kRnnTanh, Cell::kRnnRelu, Cell::kGru,
                                               Cell::kLstm};

// "rnn_tanh", "rnn_relu", "gru", "lstm": the cell's name on command lines
// and the stem of its model file (the LSTM's is model.pbtxt).
inline const char* CellName(Cell cell) {
  switch (cell) {
    case Cell::kRnnTanh:
      return "rnn_tanh";
    case Cell::kRnnRelu:
      return "rnn_relu";
    case Cell::kGru:
      return "gru";
    case Cell::kLstm:
      return "lstm";
  }
  return "";
}

inline absl::StatusOr<Cell> ParseCell(const std::string& name) {
  for (Cell c : kCells) {
    if (name == CellName(c)) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown cell '", name, "' (expected rnn_tanh, rnn_relu, gru or lstm)"));
}

inline constexpr int64_t kHidden = 64;

inline absl::StatusOr<ModelDef> BuildAddingModel(Cell cell) {
  GraphBuilder b(absl::StrCat("adding_", CellName(cell)));
  auto x = b.Input("x", FLOAT32, {"T", "N", 2}, EXAMPLE_VALUES);
  auto target = b.Input("target", FLOAT32, {1, "N", 1}, EXAMPLE_LABEL);
  auto weight = b.Input("weight", FLOAT32, {1, "N", 1}, EXAMPLE_WEIGHTS);
  NodeRef rnn;
  switch (cell) {
    case Cell::kRnnTanh:
      rnn = b.Node("rnn", "RNN", {x}, {{"hidden", kHidden}});
      break;
    case Cell::kRnnRelu:
      rnn = b.Node("rnn", "RNN", {x}, {{"hidden", kHidden}, {"activation", "relu"}});
      break;
    case Cell::kGru:
      rnn = b.Node("rnn", "GRU", {x}, {{"hidden", kHidden}});
      break;
    case Cell::kLstm:
      rnn = b.Node("rnn", "LSTM", {x}, {{"hidden", kHidden}});
      break;
  }
  auto sum = b.Node("sum", "Dense", {rnn.out("h_n")}, {{"units", 1}});
  auto loss = b.Node("loss", "MeanSquaredError", {sum, target, weight});
  b.Output(sum);
  b.Loss(loss);
  TrainingDef& t = b.Training();
  t.mutable_adam();
  t.mutable_learning_rate()->set_base(0.002f);
  t.set_clip_global_norm(1);
  t.set_truncation_steps(50);
  t.set_streams_per_worker(64);
  t.set_steps(1000);
  t.set_seed(1);
  return b.Build();
}

}  // namespace rnnflow::vanilla_vs_gated

#endif  // RNNFLOW_EXAMPLES_VANILLA_VS_GATED_ADDING_MODEL_H_
