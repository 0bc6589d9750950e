// Where each part of a model came from in its .pbtxt file, so that every
// error can say "model.pbtxt:57:3: node 'enc' (LSTM): ...".
#ifndef RNNFLOW_GRAPH_SOURCE_MAP_H_
#define RNNFLOW_GRAPH_SOURCE_MAP_H_

#include <map>
#include <string>
#include <vector>

namespace rnnflow {

struct SourceLocation {
  int line = 0;    // 1-based; 0 when unknown (e.g. a model built in C++)
  int column = 0;  // 1-based
  bool known() const { return line > 0; }
};

struct NodeSource {
  SourceLocation node, name, op;
  std::vector<SourceLocation> inputs;
  std::map<std::string, SourceLocation> attrs;  // by attribute name
};

struct EntrySource {  // a graph input, parameter or state
  SourceLocation entry, name;
  std::vector<SourceLocation> dims;  // dim / shape entries
  SourceLocation update, init;       // states only
};

class SourceMap {
 public:
  SourceMap() = default;
  explicit SourceMap(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // "file:line:col: " for a known location, "file: " otherwise, "" when the
  // model did not come from a file.
  std::string Prefix(SourceLocation loc) const;

  // Locations; an out-of-range index gives an unknown location.
  SourceLocation Node(int i) const;
  SourceLocation NodeInput(int i, int input) const;
  SourceLocation NodeAttr(int i, const std::string& attr) const;
  SourceLocation NodeOp(int i) const;
  SourceLocation Input(int i) const;
  SourceLocation Param(int i) const;
  SourceLocation State(int i) const;
  SourceLocation StateUpdate(int i) const;
  SourceLocation StateInit(int i) const;
  SourceLocation Output(int i) const;
  SourceLocation Loss() const { return loss_; }
  SourceLocation Training() const { return training_; }

  std::vector<NodeSource>& nodes() { return nodes_; }
  std::vector<EntrySource>& inputs() { return inputs_; }
  std::vector<EntrySource>& params() { return params_; }
  std::vector<EntrySource>& states() { return states_; }
  std::vector<SourceLocation>& outputs() { return outputs_; }
  void set_loss(SourceLocation l) { loss_ = l; }
  void set_training(SourceLocation l) { training_ = l; }

 private:
  std::string file_;
  std::vector<NodeSource> nodes_;
  std::vector<EntrySource> inputs_, params_, states_;
  std::vector<SourceLocation> outputs_;
  SourceLocation loss_, training_;
};

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_SOURCE_MAP_H_
