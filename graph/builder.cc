#include "rnnflow/graph/builder.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/source_map.h"

namespace rnnflow {
namespace {

int64_t NextBuilderId() {
  static std::atomic<int64_t> next{0};
  return next++;
}

std::string OutputList(const OpSchema& schema) {
  std::vector<std::string> outs;
  for (size_t k = 0; k < schema.outputs().size(); ++k) {
    outs.push_back(absl::StrCat(k, " (", schema.outputs()[k].name, ")"));
  }
  return absl::StrJoin(outs, ", ");
}

}  // namespace

// ---------------------------------------------------------------------------
// Handles

TensorRef TensorRef::Absent() {
  TensorRef t;
  t.kind_ = Kind::kAbsent;
  return t;
}

TensorRef TensorRef::Error(int64_t builder, std::string why) {
  TensorRef t;
  t.builder_ = builder;
  t.error_ = std::move(why);
  return t;
}

TensorRef NodeRef::out(int k) const {
  if (!valid()) return *this;
  const std::string label =
      absl::StrCat("node '", node_, "'", schema_ ? absl::StrCat(" (", schema_->name(), ")") : "");
  const int num_outputs = schema_ ? static_cast<int>(schema_->outputs().size()) : -1;
  if (k < 0 || (num_outputs >= 0 && k >= num_outputs)) {
    return Error(
        builder_,
        absl::StrCat(label, " has no output ", k,
                     schema_ ? absl::StrCat("; its outputs are ", OutputList(*schema_)) : ""));
  }
  return TensorRef(builder_, k == 0 ? node_ : absl::StrCat(node_, ":", k));
}

TensorRef NodeRef::out(absl::string_view output_name) const {
  if (!valid()) return *this;
  if (schema_ == nullptr) {
    return Error(builder_, absl::StrCat("node '", node_, "' has an unknown op, so its output '",
                                        output_name, "' cannot be found"));
  }
  const int k = schema_->FindOutput(output_name);
  if (k < 0) {
    return Error(builder_,
                 absl::StrCat("node '", node_, "' (", schema_->name(), ") has no output '",
                              output_name, "'; its outputs are ", OutputList(*schema_)));
  }
  return out(k);
}

AttrArg::AttrArg(const std::vector<int64_t>& v) {
  for (int64_t x : v) value_.mutable_ints()->add_i(x);
  value_.mutable_ints();  // an empty list is still a list
}
AttrArg::AttrArg(const std::vector<int>& v) {
  for (int x : v) value_.mutable_ints()->add_i(x);
  value_.mutable_ints();
}
AttrArg::AttrArg(const std::vector<float>& v) {
  for (float x : v) value_.mutable_floats()->add_f(x);
  value_.mutable_floats();
}
AttrArg::AttrArg(const std::vector<std::string>& v) {
  for (const std::string& x : v) value_.mutable_strings()->add_s(x);
  value_.mutable_strings();
}

InitializerDef ZerosInit() { return MakeInit("zeros"); }
InitializerDef OnesInit() { return MakeInit("ones"); }
InitializerDef ConstantInit(float value) { return MakeInit("constant", 0.f, value); }
InitializerDef UniformInit(float scale) { return MakeInit("uniform", scale); }
InitializerDef NormalInit(float stddev) { return MakeInit("normal", stddev); }
InitializerDef GlorotUniformInit() { return MakeInit("glorot_uniform"); }

// ---------------------------------------------------------------------------
// GraphBuilder

GraphBuilder::GraphBuilder(std::string name) : id_(NextBuilderId()) {
  model_.set_format_version(1);
  model_.set_name(std::move(name));
}

void GraphBuilder::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

std::string GraphBuilder::Use(const TensorRef& t, absl::string_view what) {
  switch (t.kind_) {
    case TensorRef::Kind::kAbsent:
      return "";
    case TensorRef::Kind::kInvalid:
      if (!t.error_.empty() && t.builder_ == id_) {
        Fail(absl::StrCat(what, ": ", t.error_));
      } else {
        Fail(absl::StrCat(what,
                          " is an invalid tensor handle (a default-constructed "
                          "TensorRef or one of another GraphBuilder)"));
      }
      return "";
    case TensorRef::Kind::kTensor:
      if (t.builder_ != id_) {
        Fail(absl::StrCat(what, ": tensor '", t.name_, "' belongs to another GraphBuilder"));
        return "";
      }
      return t.name_;
  }
  return "";
}

TensorRef GraphBuilder::Input(const std::string& name, DataType dtype,
                              const std::vector<DimArg>& dims, Feed feed) {
  InputDef* in = model_.add_input();
  in->set_name(name);
  in->set_dtype(dtype);
  for (const DimArg& d : dims) in->add_dim(d.text());
  in->set_feed(feed);
  return TensorRef(id_, name);
}

TensorRef GraphBuilder::Param(const std::string& name, const std::vector<int64_t>& shape,
                              const InitializerDef& init) {
  ParamDef* p = model_.add_param();
  p->set_name(name);
  for (int64_t d : shape) p->add_shape(d);
  if (init.ByteSizeLong() > 0) *p->mutable_init() = init;
  return TensorRef(id_, name);
}

TensorRef GraphBuilder::State(const std::string& name, const std::vector<DimArg>& dims,
                              const std::string& update, const TensorRef& init) {
  StateDef* s = model_.add_state();
  s->set_name(name);
  for (const DimArg& d : dims) s->add_dim(d.text());
  s->set_update(update);
  s->set_init(Use(init, absl::StrCat("state '", name, "': init")));
  return TensorRef(id_, name);
}

void GraphBuilder::SetStateUpdate(const TensorRef& state, const TensorRef& update) {
  const std::string state_name = Use(state, "SetStateUpdate: state");
  if (state_name.empty()) return;
  for (StateDef& s : *model_.mutable_state()) {
    if (s.name() != state_name) continue;
    const std::string what = absl::StrCat("state '", state_name, "': update");
    if (update.kind_ == TensorRef::Kind::kAbsent) {
      Fail(absl::StrCat(what, " cannot be an absent tensor"));
      return;
    }
    const std::string name = Use(update, what);
    if (!name.empty()) s.set_update(name);
    return;
  }
  Fail(absl::StrCat("SetStateUpdate: '", state_name, "' is not a state"));
}

NodeRef GraphBuilder::Node(const std::string& name, const std::string& op,
                           const std::vector<TensorRef>& inputs, const Attrs& attrs) {
  NodeDef* node = model_.add_node();
  node->set_name(name);
  node->set_op(op);
  const std::string label = absl::StrCat("node '", name, "' (", op, ")");
  for (size_t k = 0; k < inputs.size(); ++k) {
    node->add_input(Use(inputs[k], absl::StrCat(label, ": input ", k)));
  }
  for (const auto& [key, arg] : attrs) {
    if (node->attr().count(key)) {
      Fail(absl::StrCat(label, ": attribute '", key, "' is given twice"));
      continue;
    }
    if (arg.value().value_case() == AttrValue::VALUE_NOT_SET) {
      Fail(absl::StrCat(label, ": attribute '", key, "' has no value"));
      continue;
    }
    (*node->mutable_attr())[key] = arg.value();
  }
  return NodeRef(id_, name, OpRegistry::Global().Find(op));
}

TensorRef GraphBuilder::Named(const std::string& name) const {
  if (name.empty()) return TensorRef::Error(id_, "Named(\"\") names no tensor");
  return TensorRef(id_, name);
}

void GraphBuilder::Output(const TensorRef& t) {
  if (t.kind_ == TensorRef::Kind::kAbsent) {
    Fail("output: an absent tensor cannot be an output");
    return;
  }
  const std::string name = Use(t, "output");
  if (!name.empty()) model_.add_output(name);
}

void GraphBuilder::Loss(const TensorRef& t) {
  if (t.kind_ == TensorRef::Kind::kAbsent) {
    Fail("loss: an absent tensor cannot be the loss");
    return;
  }
  const std::string name = Use(t, "loss");
  if (name.empty()) return;
  if (!model_.loss().empty()) {
    Fail(absl::StrCat("loss is set twice: '", model_.loss(), "', then '", name, "'"));
    return;
  }
  model_.set_loss(name);
}

absl::StatusOr<Graph> GraphBuilder::BuildGraph(const GraphOptions& options) const {
  const std::string where =
      model_.name().empty() ? "GraphBuilder" : absl::StrCat("model '", model_.name(), "'");
  if (!error_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", error_));
  }
  return Graph::Build(model_, SourceMap(where), options);
}

absl::StatusOr<ModelDef> GraphBuilder::Build(const GraphOptions& options) const {
  RF_RETURN_IF_ERROR(BuildGraph(options).status());
  return model_;
}

}  // namespace rnnflow
