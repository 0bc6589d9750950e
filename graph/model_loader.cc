#include "rnnflow/graph/model_loader.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rnnflow/base/read_file.h"

namespace rnnflow {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
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

// The model text by lines, for what the ParseInfoTree does not record: the
// position of each element of a list (`dim: ["T", "N", "0"]` is recorded
// once, at `dim`) and the text of attribute keys. Columns follow protobuf's
// tokenizer: a tab advances to the next multiple of 8.
class TextIndex {
 public:
  struct Cursor {
    size_t line = 0;  // 0-based
    size_t pos = 0;   // byte offset in the line
  };

  explicit TextIndex(absl::string_view text) : lines_(absl::StrSplit(text, '\n')) {}

  // The cursor at a 0-based protobuf position; false when there is none.
  bool At(TextFormat::ParseLocation loc, Cursor* c) const {
    if (loc.line < 0 || loc.line >= static_cast<int>(lines_.size())) return false;
    const absl::string_view l = lines_[loc.line];
    int col = 0;
    size_t pos = 0;
    while (pos < l.size() && col < loc.column) col = NextColumn(col, l[pos++]);
    if (col != loc.column) return false;
    *c = Cursor{static_cast<size_t>(loc.line), pos};
    return true;
  }

  SourceLocation Location(const Cursor& c) const {
    int col = 0;
    const absl::string_view l = lines_[c.line];
    for (size_t i = 0; i < c.pos && i < l.size(); ++i) col = NextColumn(col, l[i]);
    return SourceLocation{static_cast<int>(c.line) + 1, col + 1};
  }

  // The character at `c`: '\n' at the end of a line, '\0' at the end.
  char Peek(const Cursor& c) const {
    if (c.line >= lines_.size()) return '\0';
    if (c.pos < lines_[c.line].size()) return lines_[c.line][c.pos];
    return c.line + 1 < lines_.size() ? '\n' : '\0';
  }

  void Advance(Cursor& c) const {
    if (c.line >= lines_.size()) return;
    if (c.pos < lines_[c.line].size()) {
      ++c.pos;
    } else {
      ++c.line;
      c.pos = 0;
    }
  }

  // Skips whitespace and # comments.
  void SkipSpace(Cursor& c) const {
    for (;;) {
      const char ch = Peek(c);
      if (ch == '#') {
        while (Peek(c) != '\n' && Peek(c) != '\0') Advance(c);
      } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
        Advance(c);
      } else {
        return;
      }
    }
  }

  // Skips a field name and the ':' after it; true when a '[' follows.
  bool SkipToListStart(Cursor& c) const {
    while (absl::ascii_isalnum(Peek(c)) || Peek(c) == '_') Advance(c);
    SkipSpace(c);
    if (Peek(c) == ':') Advance(c);
    SkipSpace(c);
    return Peek(c) == '[';
  }

  // Reads a quoted string at `c` (escapes kept as written).
  bool ReadString(Cursor& c, std::string* out) const {
    const char q = Peek(c);
    if (q != '"' && q != '\'') return false;
    Advance(c);
    out->clear();
    while (Peek(c) != q) {
      const char ch = Peek(c);
      if (ch == '\0' || ch == '\n') return false;
      if (ch == '\\') {
        out->push_back(ch);
        Advance(c);
      }
      out->push_back(Peek(c));
      Advance(c);
    }
    Advance(c);
    return true;
  }

  // Skips one list element: adjacent strings, or a bare number or name.
  void SkipValue(Cursor& c) const {
    std::string ignored;
    if (Peek(c) == '"' || Peek(c) == '\'') {
      while (ReadString(c, &ignored)) SkipSpace(c);
      return;
    }
    do {
      Advance(c);
    } while (Peek(c) != '\0' &&
             absl::string_view(",]#\"' \t\r\n").find(Peek(c)) == absl::string_view::npos);
  }

 private:
  static int NextColumn(int col, char ch) { return ch == '\t' ? col + 8 - col % 8 : col + 1; }

  std::vector<absl::string_view> lines_;
};

const FieldDescriptor* Field(const Descriptor* d, const char* name) {
  return d->FindFieldByName(name);
}

SourceLocation Loc(const TextFormat::ParseInfoTree* tree, const Descriptor* d, const char* field,
                   int index = -1) {
  if (tree == nullptr) return {};
  return ToLocation(tree->GetLocation(Field(d, field), index));
}

const TextFormat::ParseInfoTree* Nested(const TextFormat::ParseInfoTree* tree, const Descriptor* d,
                                        const char* field, int index) {
  if (tree == nullptr) return nullptr;
  return tree->GetTreeForNested(Field(d, field), index);
}

// The position of each of the `count` values of a repeated scalar field:
// where its `field:` is for a single value, the element itself inside a
// `field: [a, b]` list.
std::vector<SourceLocation> ElementLocations(const TextIndex& text,
                                             const TextFormat::ParseInfoTree* tree,
                                             const Descriptor* d, const char* field, int count) {
  std::vector<SourceLocation> out;
  const FieldDescriptor* f = Field(d, field);
  for (int occurrence = 0; tree != nullptr && static_cast<int>(out.size()) < count; ++occurrence) {
    const TextFormat::ParseLocation loc = tree->GetLocation(f, occurrence);
    if (loc.line < 0) break;
    TextIndex::Cursor c;
    if (!text.At(loc, &c) || !text.SkipToListStart(c)) {
      out.push_back(ToLocation(loc));
      continue;
    }
    text.Advance(c);  // '['
    while (static_cast<int>(out.size()) < count) {
      text.SkipSpace(c);
      const char ch = text.Peek(c);
      if (ch == ']' || ch == '\0') break;
      if (ch == ',') {
        text.Advance(c);
        continue;
      }
      out.push_back(text.Location(c));
      text.SkipValue(c);
    }
  }
  out.resize(count);  // unknown for any not found
  return out;
}

// Where a message entry is; for entries of a `field: [{...}, {...}]` list,
// which the tree records once, where its `name` is.
SourceLocation EntryLocation(const TextFormat::ParseInfoTree* tree, const Descriptor* d,
                             const char* field, int index, SourceLocation name) {
  SourceLocation entry = Loc(tree, d, field, index);
  return entry.known() ? entry : name;
}

EntrySource EntryLocations(const TextIndex& text, const TextFormat::ParseInfoTree& root,
                           const Descriptor* model_desc, const char* field, int index,
                           const Descriptor* entry_desc, const char* dims_field, int num_dims) {
  EntrySource e;
  const auto* t = Nested(&root, model_desc, field, index);
  e.name = Loc(t, entry_desc, "name");
  e.entry = EntryLocation(&root, model_desc, field, index, e.name);
  e.dims = ElementLocations(text, t, entry_desc, dims_field, num_dims);
  return e;
}

// Attribute entries by key: the tree keeps a nested tree per map entry, with
// where its `key:` is; the key's text is read from there.
std::map<std::string, SourceLocation> AttrLocations(const TextIndex& text,
                                                    const TextFormat::ParseInfoTree* node) {
  std::map<std::string, SourceLocation> attrs;
  if (node == nullptr) return attrs;
  const FieldDescriptor* attr_field = Field(NodeDef::descriptor(), "attr");
  for (int k = 0;; ++k) {
    const TextFormat::ParseInfoTree* entry = node->GetTreeForNested(attr_field, k);
    if (entry == nullptr) break;
    const TextFormat::ParseLocation key_loc =
        entry->GetLocation(attr_field->message_type()->FindFieldByName("key"), -1);
    TextIndex::Cursor c;
    std::string key;
    if (!text.At(key_loc, &c)) continue;
    text.SkipToListStart(c);
    if (!text.ReadString(c, &key)) continue;
    const SourceLocation entry_loc = ToLocation(node->GetLocation(attr_field, k));
    attrs.emplace(key, entry_loc.known() ? entry_loc : ToLocation(key_loc));
  }
  return attrs;
}

SourceMap BuildSourceMap(const ModelDef& model, const TextFormat::ParseInfoTree& root,
                         absl::string_view model_text, const std::string& file) {
  SourceMap map(file);
  const TextIndex text(model_text);
  const Descriptor* md = ModelDef::descriptor();
  const Descriptor* nd = NodeDef::descriptor();
  for (int i = 0; i < model.node_size(); ++i) {
    NodeSource ns;
    const auto* t = Nested(&root, md, "node", i);
    ns.name = Loc(t, nd, "name");
    ns.node = EntryLocation(&root, md, "node", i, ns.name);
    ns.op = Loc(t, nd, "op");
    ns.inputs = ElementLocations(text, t, nd, "input", model.node(i).input_size());
    ns.attrs = AttrLocations(text, t);
    map.nodes().push_back(std::move(ns));
  }
  for (int i = 0; i < model.input_size(); ++i) {
    map.inputs().push_back(EntryLocations(text, root, md, "input", i, InputDef::descriptor(), "dim",
                                          model.input(i).dim_size()));
  }
  for (int i = 0; i < model.param_size(); ++i) {
    map.params().push_back(EntryLocations(text, root, md, "param", i, ParamDef::descriptor(),
                                          "shape", model.param(i).shape_size()));
  }
  for (int i = 0; i < model.state_size(); ++i) {
    EntrySource e = EntryLocations(text, root, md, "state", i, StateDef::descriptor(), "dim",
                                   model.state(i).dim_size());
    const auto* t = Nested(&root, md, "state", i);
    e.update = Loc(t, StateDef::descriptor(), "update");
    e.init = Loc(t, StateDef::descriptor(), "init");
    map.states().push_back(std::move(e));
  }
  map.outputs() = ElementLocations(text, &root, md, "output", model.output_size());
  map.set_loss(Loc(&root, md, "loss"));
  map.set_training(Loc(&root, md, "training"));
  return map;
}

// Rewrites protobuf's messages for the mistakes people make most into ones
// that say what is valid. Protobuf reports those after the offending word;
// `*word` is set to it so the position can be moved back to its start.
std::string ExplainParseError(const std::string& message, std::string* word) {
  const FileDescriptor* file = ModelDef::descriptor()->file();
  // Message type "rnnflow.InputDef" has no field named "dtyp".
  static const std::string kNoField = "Message type \"";
  static const std::string kNoFieldMid = "\" has no field named \"";
  const size_t mid = message.find(kNoFieldMid);
  if (absl::StartsWith(message, kNoField) && mid != std::string::npos &&
      absl::EndsWith(message, "\".")) {
    const std::string type = message.substr(kNoField.size(), mid - kNoField.size());
    const size_t name_at = mid + kNoFieldMid.size();
    const std::string name = message.substr(name_at, message.size() - 2 - name_at);
    const Descriptor* d = file->pool()->FindMessageTypeByName(type);
    if (d != nullptr) {
      *word = name;
      std::vector<std::string> fields;
      for (int i = 0; i < d->field_count(); ++i) fields.push_back(d->field(i)->name());
      return absl::StrCat("unknown field '", name, "' in ", d->name(),
                          "; expected one of: ", absl::StrJoin(fields, ", "));
    }
  }
  // Unknown enumeration value of "FLOAT64" for field "dtype".
  static const std::string kEnum = "Unknown enumeration value of \"";
  static const std::string kEnumMid = "\" for field \"";
  const size_t enum_mid = message.find(kEnumMid);
  if (absl::StartsWith(message, kEnum) && enum_mid != std::string::npos &&
      absl::EndsWith(message, "\".")) {
    const std::string value = message.substr(kEnum.size(), enum_mid - kEnum.size());
    const size_t field_at = enum_mid + kEnumMid.size();
    const std::string field = message.substr(field_at, message.size() - 2 - field_at);
    for (int m = 0; m < file->message_type_count(); ++m) {
      const FieldDescriptor* f = file->message_type(m)->FindFieldByName(field);
      if (f == nullptr || f->enum_type() == nullptr) continue;
      *word = value;
      std::vector<std::string> values;
      for (int v = 0; v < f->enum_type()->value_count(); ++v) {
        if (!absl::EndsWith(f->enum_type()->value(v)->name(), "INVALID")) {
          values.push_back(f->enum_type()->value(v)->name());
        }
      }
      return absl::StrCat("unknown ", field, " '", value,
                          "'; expected one of: ", absl::StrJoin(values, ", "));
    }
  }
  // Expected identifier, got: (at the end of the text)
  if (absl::EndsWith(message, ", got: ")) {
    return absl::StrCat("syntax error: ", message.substr(0, message.size() - 2),
                        " the end of the file (is a '}' missing?)");
  }
  return absl::StrCat("syntax error: ", message);
}

}  // namespace

absl::StatusOr<LoadedModel> ParseModelText(absl::string_view text, const std::string& file) {
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
    std::string word;
    const std::string message = ExplainParseError(errors.message(), &word);
    int column = errors.column();
    if (!word.empty()) {
      // Point at the start of the word the message is about, when it is on
      // the error's line before the error (and no tab makes columns differ
      // from bytes).
      const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
      if (errors.line() >= 1 && errors.line() <= static_cast<int>(lines.size())) {
        const absl::string_view line = lines[errors.line() - 1];
        const size_t at = line.rfind(word, static_cast<size_t>(column - 1));
        if (at != absl::string_view::npos &&
            line.substr(0, column - 1).find('\t') == absl::string_view::npos) {
          column = static_cast<int>(at) + 1;
        }
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", errors.line(), ":", column, ": ", message));
  }
  out.source = BuildSourceMap(out.model, tree, text, file);
  return out;
}

absl::StatusOr<LoadedModel> LoadModelFile(const std::string& path) {
  RF_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseModelText(text, path);
}

absl::StatusOr<Graph> LoadGraph(const std::string& path, const GraphOptions& options) {
  RF_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModelFile(path));
  return Graph::Build(loaded.model, loaded.source, options);
}

std::string ModelToText(const ModelDef& model) {
  TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(true);
  std::string out;
  printer.PrintToString(model, &out);
  return out;
}

}  // namespace rnnflow
