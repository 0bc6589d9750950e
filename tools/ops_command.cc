// rnnflow ops: the op registry, printed.
#include <iostream>

#include "absl/strings/str_format.h"
#include "rnnflow/graph/op_registry.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace rnnflow {

int RunOps(const std::vector<std::string>& args) {
  const std::string usage =
      Usage("rnnflow ops", "[OP...]",
            "Lists every registered op (or the named ones) with its inputs, "
            "outputs,\n"
            "attributes (types and defaults), parameters and a one-line description.",
            {});
  ParsedFlags flags;
  if (auto exit = ParseCommandLine("rnnflow ops", args, {}, usage, kAnyPositional, {}, &flags)) {
    return *exit;
  }
  const OpRegistry& registry = OpRegistry::Global();
  std::vector<std::string> names = flags.positional.empty() ? registry.Names() : flags.positional;
  for (const std::string& name : names) {
    const OpSchema* op = registry.Find(name);
    if (op == nullptr) {
      return Fail(flags, absl::NotFoundError(absl::StrCat("unknown op '", name, "'")));
    }
    std::string first_line = op->doc().substr(0, op->doc().find('\n'));
    std::cout << op->name() << (op->is_loss() ? " (loss)" : "") << ": " << first_line << "\n";
    for (const ArgSpec& in : op->inputs()) {
      std::cout << absl::StrFormat("  input  %-12s %s%s%s\n", in.name, in.doc,
                                   in.optional ? " (optional)" : "",
                                   in.variadic ? " (one or more)" : "");
    }
    for (const ArgSpec& out : op->outputs()) {
      std::cout << absl::StrFormat("  output %-12s %s\n", out.name, out.doc);
    }
    for (const AttrSpec& a : op->attrs()) {
      std::cout << absl::StrFormat(
          "  attr   %-12s %-8s %s  %s\n", a.name, AttrTypeName(a.type),
          a.required ? "required" : absl::StrCat("= ", AttrValueToString(a.default_value)), a.doc);
    }
    if (!op->params_doc().empty()) std::cout << "  params " << op->params_doc() << "\n";
    for (const auto& [in, out] : op->carried_states()) {
      std::cout << "  state  " << out << " carried into " << in
                << " across chunks when it is not connected\n";
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace rnnflow
