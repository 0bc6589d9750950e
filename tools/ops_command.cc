// rnnflow ops: the op registry, printed as text or as the Markdown of
// docs/ops.md.
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rnnflow/graph/op_registry.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {
namespace {

// The command that writes docs/ops.md; its test (tests/docs/) names it too.
constexpr char kRegenerate[] = "build/rnnflow ops --markdown > docs/ops.md";

std::string FirstLine(const std::string& doc) { return doc.substr(0, doc.find('\n')); }

void PrintText(const OpSchema& op, std::ostream& out) {
  out << op.name() << (op.is_loss() ? " (loss)" : "") << ": " << FirstLine(op.doc()) << "\n";
  for (const ArgSpec& in : op.inputs()) {
    out << absl::StrFormat("  input  %-12s %s%s%s\n", in.name, in.doc,
                           in.optional ? " (optional)" : "", in.variadic ? " (one or more)" : "");
  }
  for (const ArgSpec& o : op.outputs()) {
    out << absl::StrFormat("  output %-12s %s\n", o.name, o.doc);
  }
  for (const AttrSpec& a : op.attrs()) {
    out << absl::StrFormat(
        "  attr   %-12s %-8s %s  %s\n", a.name, AttrTypeName(a.type),
        a.required ? "required" : absl::StrCat("= ", AttrValueToString(a.default_value)), a.doc);
  }
  if (!op.params_doc().empty()) out << "  params " << op.params_doc() << "\n";
  for (const auto& [in, state] : op.carried_states()) {
    out << "  state  " << state << " carried into " << in
        << " across chunks when it is not connected\n";
  }
  out << "\n";
}

// Registry prose as Markdown text: outside `code spans` what Markdown would
// read as emphasis or HTML is escaped ("u*h_{t-1} + (1-u)*o_t" must not turn
// italic; an underscore between two letters or digits never does), `|` is
// escaped everywhere (it would end a table cell), and line breaks become
// spaces so the text fits a cell.
std::string MarkdownText(absl::string_view text) {
  std::string out;
  bool in_code = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char prev = i > 0 ? text[i - 1] : ' ';
    const char next = i + 1 < text.size() ? text[i + 1] : ' ';
    if (c == '`') in_code = !in_code;
    if (c == '\n') {
      out += ' ';
      continue;
    }
    const bool escape =
        c == '|' ||
        (!in_code && (c == '*' || c == '\\' ||
                      (c == '_' && !(absl::ascii_isalnum(prev) && absl::ascii_isalnum(next))) ||
                      (c == '<' && (absl::ascii_isalpha(next) || next == '/' || next == '!'))));
    if (escape) out += '\\';
    out += c;
  }
  return out;
}

std::string Anchor(const std::string& op_name) { return absl::AsciiStrToLower(op_name); }

std::string DefaultText(const AttrSpec& a) {
  if (a.required) return "required";
  if (a.default_value.value_case() == AttrValue::VALUE_NOT_SET) return "unset";
  return absl::StrCat("`", AttrValueToString(a.default_value), "`");
}

void PrintMarkdownOp(const OpSchema& op, std::ostream& out) {
  out << "## " << op.name() << "\n\n" << MarkdownText(op.doc()) << "\n\n";
  if (op.is_loss()) {
    out << "A loss: its scalar output is what a model's `loss:` may name.\n\n";
  }
  if (!op.inputs().empty()) {
    out << "| input | | description |\n| --- | --- | --- |\n";
    for (size_t k = 0; k < op.inputs().size(); ++k) {
      const ArgSpec& in = op.inputs()[k];
      std::vector<std::string> marks;
      if (in.optional) marks.push_back("optional");
      if (in.variadic) marks.push_back("one or more");
      if (!in.differentiable) marks.push_back("no gradient");
      out << absl::StrFormat("| %d `%s` | %s | %s |\n", k, in.name, absl::StrJoin(marks, ", "),
                             MarkdownText(in.doc));
    }
    out << "\n";
  }
  out << "| output | reference | description |\n| --- | --- | --- |\n";
  for (size_t k = 0; k < op.outputs().size(); ++k) {
    const ArgSpec& o = op.outputs()[k];
    out << absl::StrFormat("| %d `%s` | `NODE%s` | %s |\n", k, o.name,
                           k == 0 ? "" : absl::StrCat(":", k), MarkdownText(o.doc));
  }
  out << "\n";
  if (!op.attrs().empty()) {
    out << "| attribute | type | default | allowed | description |\n"
           "| --- | --- | --- | --- | --- |\n";
    for (const AttrSpec& a : op.attrs()) {
      std::vector<std::string> allowed;
      for (const std::string& v : a.allowed_values)
        allowed.push_back(absl::StrCat("`\"", v, "\"`"));
      out << absl::StrFormat("| `%s` | %s | %s | %s | %s |\n", a.name, AttrTypeName(a.type),
                             DefaultText(a), absl::StrJoin(allowed, ", "), MarkdownText(a.doc));
    }
    out << "\n";
  }
  if (!op.params_doc().empty()) {
    out << "Parameters (named `NODE/slot`): " << MarkdownText(op.params_doc()) << "\n\n";
  }
  for (const auto& [in, state] : op.carried_states()) {
    out << "Carried state: when input `" << in << "` is not connected, output `" << state
        << "` of one truncated-BPTT chunk starts the next (detached).\n\n";
  }
}

void PrintMarkdown(const std::vector<const OpSchema*>& ops, std::ostream& out) {
  out << "# Op reference\n\n"
      << "<!-- Generated from the op registry (graph/op_defs_*.cc) by `rnnflow ops --markdown`;\n"
      << "     do not edit. Regenerate with: " << kRegenerate << " -->\n\n"
      << "Every op a model file's `node { op: \"...\" }` may name, with its inputs (in the\n"
      << "order `input:` lists them), outputs, attributes and the parameters it creates.\n"
      << "The model file itself is described in [model-format.md](model-format.md).\n"
      << "An input left out at the end, or written `\"\"`, is absent (optional inputs\n"
      << "only); output k of node `NODE` is referenced as `NODE:k` or by its name\n"
      << "(`NODE:h_n`), output 0 also as `NODE`.\n\n"
      << "| op | what it computes |\n| --- | --- |\n";
  for (const OpSchema* op : ops) {
    const std::string first = FirstLine(op->doc());
    const size_t end = first.find(". ");
    out << "| [" << op->name() << "](#" << Anchor(op->name()) << ")"
        << (op->is_loss() ? " (loss)" : "") << " | "
        << MarkdownText(end == std::string::npos ? first : first.substr(0, end + 1)) << " |\n";
  }
  out << "\n";
  for (const OpSchema* op : ops) PrintMarkdownOp(*op, out);
}

}  // namespace

int RunOps(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"markdown", "",
       absl::StrCat("print Markdown, the reference docs/ops.md holds (", kRegenerate, ")")},
  };
  const std::string usage =
      Usage("rnnflow ops", "[OP...] [--markdown]",
            "Lists every registered op (or the named ones) with its inputs, "
            "outputs,\n"
            "attributes (types and defaults), parameters and a one-line description.",
            specs);
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow ops", args, specs, usage, kAnyPositional, {}, &flags)) {
    return *exit;
  }
  const OpRegistry& registry = OpRegistry::Global();
  std::vector<std::string> names = flags.positional.empty() ? registry.Names() : flags.positional;
  std::vector<const OpSchema*> ops;
  for (const std::string& name : names) {
    const OpSchema* op = registry.Find(name);
    if (op == nullptr) {
      return Fail(flags, absl::NotFoundError(absl::StrCat("unknown op '", name, "'")));
    }
    ops.push_back(op);
  }
  if (flags.Has("markdown")) {
    PrintMarkdown(ops, std::cout);
  } else {
    for (const OpSchema* op : ops) PrintText(*op, std::cout);
  }
  return 0;
}

}  // namespace rnnflow
