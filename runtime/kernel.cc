#include "rnnflow/runtime/kernel.h"

#include "absl/strings/str_cat.h"

namespace rnnflow {
namespace {

const AttrValue& Attr(const KernelInit& init, absl::string_view name) {
  static const AttrValue* const kEmpty = new AttrValue();
  if (init.attrs == nullptr) return *kEmpty;
  auto it = init.attrs->find(std::string(name));
  return it == init.attrs->end() ? *kEmpty : it->second;
}

}  // namespace

int64_t KernelInit::GetInt(absl::string_view name) const { return Attr(*this, name).i(); }
float KernelInit::GetFloat(absl::string_view name) const { return Attr(*this, name).f(); }
std::string KernelInit::GetString(absl::string_view name) const { return Attr(*this, name).s(); }
bool KernelInit::GetBool(absl::string_view name) const { return Attr(*this, name).b(); }
std::vector<int64_t> KernelInit::GetInts(absl::string_view name) const {
  const auto& list = Attr(*this, name).ints().i();
  return std::vector<int64_t>(list.begin(), list.end());
}

absl::Status KernelInit::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat("node '", node_name, "' (", op, "): ", message));
}

KernelRegistry& KernelRegistry::Global() {
  static KernelRegistry* registry = new KernelRegistry();
  return *registry;
}

void KernelRegistry::Register(const std::string& op, KernelFactory factory) {
  factories_.emplace_back(op, std::move(factory));
}

const KernelFactory* KernelRegistry::Find(absl::string_view op) const {
  for (const auto& [name, factory] : factories_) {
    if (name == op) return &factory;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<OpKernel>> KernelRegistry::Create(const KernelInit& init) const {
  const KernelFactory* factory = Find(init.op);
  if (factory == nullptr) {
    return absl::UnimplementedError(absl::StrCat("node '", init.node_name, "' (", init.op,
                                                 "): no kernel is registered for this op"));
  }
  return (*factory)(init);
}

}  // namespace rnnflow
