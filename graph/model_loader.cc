#include "graph/model_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace rnnflow {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects the first parse error with its position.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (has_error_) return;
    has_error_ = true;
    line_ = line + 1;  // protobuf counts from 0
    column_ = column + 1;
    message_ = message;
  }
  void AddWarning(int, int, const std::string&) override {}

  bool has_error() const { return has_error_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool has_error_ = false;
  int line_ = 0, column_ = 0;
  std::string message_;
};

SourceLocation ToLocation(TextFormat::ParseLocation loc) {
  if (loc.line < 0) return {};
  return SourceLocation{loc.line + 1, loc.column + 1};
}

const FieldDescriptor* Field(const Descriptor* d, const char* name) {
  return d->FindFieldByName(name);
}

SourceLocation Loc(const TextFormat::ParseInfoTree* tree, const Descriptor* d,
                   const char* field, int index = -1) {
  if (tree == nullptr) return {};
  return ToLocation(tree->GetLocation(Field(d, field), index));
}

const TextFormat::ParseInfoTree* Nested(const TextFormat::ParseInfoTree* tree,
                                        const Descriptor* d, const char* field,
                                        int index) {
  if (tree == nullptr) return nullptr;
  return tree->GetTreeForNested(Field(d, field), index);
}

EntrySource EntryLocations(const TextFormat::ParseInfoTree& root,
                           const Descriptor* model_desc, const char* field,
                           int index, const Descriptor* entry_desc,
                           const char* dims_field, int num_dims) {
  EntrySource e;
  e.entry = Loc(&root, model_desc, field, index);
  const auto* t = Nested(&root, model_desc, field, index);
  e.name = Loc(t, entry_desc, "name");
  for (int k = 0; k < num_dims; ++k) e.dims.push_back(Loc(t, entry_desc, dims_field, k));
  return e;
}

SourceMap BuildSourceMap(const ModelDef& model, const TextFormat::ParseInfoTree& root,
                         const std::string& file) {
  SourceMap map(file);
  const Descriptor* md = ModelDef::descriptor();
  const Descriptor* nd = NodeDef::descriptor();
  for (int i = 0; i < model.node_size(); ++i) {
    NodeSource ns;
    ns.node = Loc(&root, md, "node", i);
    const auto* t = Nested(&root, md, "node", i);
    ns.name = Loc(t, nd, "name");
    ns.op = Loc(t, nd, "op");
    for (int k = 0; k < model.node(i).input_size(); ++k) {
      ns.inputs.push_back(Loc(t, nd, "input", k));
    }
    // Map entries are recorded as repeated key/value messages; the tree keeps
    // where each entry's key is but not its text, which ResolveAttrKeys reads.
    const FieldDescriptor* attr_field = Field(nd, "attr");
    for (int k = 0; t != nullptr; ++k) {
      SourceLocation entry_loc = ToLocation(t->GetLocation(attr_field, k));
      if (!entry_loc.known()) break;
      SourceLocation key_loc =
          Loc(t->GetTreeForNested(attr_field, k), attr_field->message_type(), "key");
      ns.attrs["#" + std::to_string(k)] = key_loc.known() ? key_loc : entry_loc;
    }
    map.nodes().push_back(std::move(ns));
  }
  for (int i = 0; i < model.input_size(); ++i) {
    map.inputs().push_back(EntryLocations(root, md, "input", i, InputDef::descriptor(),
                                          "dim", model.input(i).dim_size()));
  }
  for (int i = 0; i < model.param_size(); ++i) {
    map.params().push_back(EntryLocations(root, md, "param", i, ParamDef::descriptor(),
                                          "shape", model.param(i).shape_size()));
  }
  for (int i = 0; i < model.state_size(); ++i) {
    EntrySource e = EntryLocations(root, md, "state", i, StateDef::descriptor(), "dim",
                                   model.state(i).dim_size());
    const auto* t = Nested(&root, md, "state", i);
    e.update = Loc(t, StateDef::descriptor(), "update");
    e.init = Loc(t, StateDef::descriptor(), "init");
    map.states().push_back(std::move(e));
  }
  for (int i = 0; i < model.output_size(); ++i) {
    map.outputs().push_back(Loc(&root, md, "output", i));
  }
  map.set_loss(Loc(&root, md, "loss"));
  map.set_training(Loc(&root, md, "training"));
  return map;
}

// Replaces the placeholder attribute keys of BuildSourceMap by the key text
// found at the recorded position (`key: "units"`).
void ResolveAttrKeys(absl::string_view text, SourceMap& map) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (NodeSource& ns : map.nodes()) {
    std::map<std::string, SourceLocation> resolved;
    for (const auto& [placeholder, loc] : ns.attrs) {
      if (loc.line < 1 || loc.line > static_cast<int>(lines.size())) continue;
      absl::string_view line = lines[loc.line - 1];
      size_t q1 = line.find_first_of("\"'", loc.column - 1);
      if (q1 == absl::string_view::npos) continue;
      size_t q2 = line.find(line[q1], q1 + 1);
      if (q2 == absl::string_view::npos) continue;
      resolved[std::string(line.substr(q1 + 1, q2 - q1 - 1))] = loc;
    }
    ns.attrs = std::move(resolved);
  }
}

}  // namespace

absl::StatusOr<LoadedModel> ParseModelText(absl::string_view text,
                                           const std::string& file) {
  TextFormat::Parser parser;
  FirstErrorCollector errors;
  TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  LoadedModel out;
  if (!parser.ParseFromString(std::string(text), &out.model)) {
    if (!errors.has_error()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": cannot parse the model"));
    }
    return absl::InvalidArgumentError(absl::StrCat(file, ":", errors.line(), ":",
                                                   errors.column(), ": syntax error: ",
                                                   errors.message()));
  }
  out.source = BuildSourceMap(out.model, tree, file);
  ResolveAttrKeys(text, out.source);
  return out;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  return ss.str();
}

absl::StatusOr<LoadedModel> LoadModelFile(const std::string& path) {
  RF_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseModelText(text, path);
}

std::string ModelToText(const ModelDef& model) {
  TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(true);
  std::string out;
  printer.PrintToString(model, &out);
  return out;
}

}  // namespace rnnflow
