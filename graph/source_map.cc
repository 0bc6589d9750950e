#include "rnnflow/graph/source_map.h"

#include "absl/strings/str_cat.h"

namespace rnnflow {
namespace {

template <typename T>
const T* At(const std::vector<T>& v, int i) {
  return i >= 0 && i < static_cast<int>(v.size()) ? &v[i] : nullptr;
}

SourceLocation Pick(SourceLocation preferred, SourceLocation fallback) {
  return preferred.known() ? preferred : fallback;
}

}  // namespace

std::string SourceMap::Prefix(SourceLocation loc) const {
  if (file_.empty()) return "";
  if (!loc.known()) return absl::StrCat(file_, ": ");
  return absl::StrCat(file_, ":", loc.line, ":", loc.column, ": ");
}

SourceLocation SourceMap::Node(int i) const {
  const NodeSource* n = At(nodes_, i);
  return n ? n->node : SourceLocation{};
}
SourceLocation SourceMap::NodeOp(int i) const {
  const NodeSource* n = At(nodes_, i);
  return n ? Pick(n->op, n->node) : SourceLocation{};
}
SourceLocation SourceMap::NodeInput(int i, int input) const {
  const NodeSource* n = At(nodes_, i);
  if (n == nullptr) return {};
  const SourceLocation* l = At(n->inputs, input);
  return l ? Pick(*l, n->node) : n->node;
}
SourceLocation SourceMap::NodeAttr(int i, const std::string& attr) const {
  const NodeSource* n = At(nodes_, i);
  if (n == nullptr) return {};
  auto it = n->attrs.find(attr);
  return it == n->attrs.end() ? n->node : Pick(it->second, n->node);
}
SourceLocation SourceMap::Input(int i) const {
  const EntrySource* e = At(inputs_, i);
  return e ? e->entry : SourceLocation{};
}
SourceLocation SourceMap::Param(int i) const {
  const EntrySource* e = At(params_, i);
  return e ? e->entry : SourceLocation{};
}
SourceLocation SourceMap::State(int i) const {
  const EntrySource* e = At(states_, i);
  return e ? e->entry : SourceLocation{};
}
SourceLocation SourceMap::StateUpdate(int i) const {
  const EntrySource* e = At(states_, i);
  return e ? Pick(e->update, e->entry) : SourceLocation{};
}
SourceLocation SourceMap::StateInit(int i) const {
  const EntrySource* e = At(states_, i);
  return e ? Pick(e->init, e->entry) : SourceLocation{};
}
SourceLocation SourceMap::Output(int i) const {
  const SourceLocation* l = At(outputs_, i);
  return l ? *l : SourceLocation{};
}

}  // namespace rnnflow
