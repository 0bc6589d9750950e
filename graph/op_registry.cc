#include "rnnflow/graph/op_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rnnflow {

const char* AttrTypeName(AttrType t) {
  switch (t) {
    case AttrType::kInt:
      return "int";
    case AttrType::kFloat:
      return "float";
    case AttrType::kString:
      return "string";
    case AttrType::kBool:
      return "bool";
    case AttrType::kInts:
      return "list(int)";
    case AttrType::kFloats:
      return "list(float)";
    case AttrType::kStrings:
      return "list(string)";
  }
  return "?";
}

bool AttrHasType(const AttrValue& v, AttrType t) {
  switch (t) {
    case AttrType::kInt:
      return v.value_case() == AttrValue::kI;
    // An integer literal is a fine float.
    case AttrType::kFloat:
      return v.value_case() == AttrValue::kF || v.value_case() == AttrValue::kI;
    case AttrType::kString:
      return v.value_case() == AttrValue::kS;
    case AttrType::kBool:
      return v.value_case() == AttrValue::kB;
    case AttrType::kInts:
      return v.value_case() == AttrValue::kInts;
    case AttrType::kFloats:
      return v.value_case() == AttrValue::kFloats;
    case AttrType::kStrings:
      return v.value_case() == AttrValue::kStrings;
  }
  return false;
}

std::string AttrValueToString(const AttrValue& v) {
  switch (v.value_case()) {
    case AttrValue::kI:
      return absl::StrCat(v.i());
    case AttrValue::kF:
      return absl::StrCat(v.f());
    case AttrValue::kS:
      return absl::StrCat("\"", v.s(), "\"");
    case AttrValue::kB:
      return v.b() ? "true" : "false";
    case AttrValue::kInts:
      return absl::StrCat("[", absl::StrJoin(v.ints().i(), ","), "]");
    case AttrValue::kFloats:
      return absl::StrCat("[", absl::StrJoin(v.floats().f(), ","), "]");
    case AttrValue::kStrings:
      return absl::StrCat("[", absl::StrJoin(v.strings().s(), ","), "]");
    case AttrValue::VALUE_NOT_SET:
      return "(unset)";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// ShapeContext

ShapeContext::ShapeContext(const OpSchema& schema, const NodeDef& node,
                           std::vector<const SymShape*> input_shapes,
                           std::vector<DataType> input_dtypes)
    : schema_(schema),
      node_(node),
      input_shapes_(std::move(input_shapes)),
      input_dtypes_(std::move(input_dtypes)) {
  output_shapes_.resize(schema.outputs().size());
  output_dtypes_.resize(schema.outputs().size(), FLOAT32);
}

std::string ShapeContext::input_name(int i) const {
  const auto& in = schema_.inputs();
  if (in.empty()) return absl::StrCat("#", i);
  if (i < static_cast<int>(in.size()) - 1 || !in.back().variadic) {
    return i < static_cast<int>(in.size()) ? in[i].name : absl::StrCat("#", i);
  }
  return absl::StrCat(in.back().name, "[", i - (in.size() - 1), "]");
}

namespace {
const AttrValue& FindAttrValue(const NodeDef& node, absl::string_view name) {
  static const AttrValue* const kEmpty = new AttrValue();
  auto it = node.attr().find(std::string(name));
  return it == node.attr().end() ? *kEmpty : it->second;
}
}  // namespace

int64_t ShapeContext::GetInt(absl::string_view name) const {
  return FindAttrValue(node_, name).i();
}
float ShapeContext::GetFloat(absl::string_view name) const {
  const AttrValue& v = FindAttrValue(node_, name);
  return v.value_case() == AttrValue::kI ? static_cast<float>(v.i()) : v.f();
}
std::string ShapeContext::GetString(absl::string_view name) const {
  return FindAttrValue(node_, name).s();
}
bool ShapeContext::GetBool(absl::string_view name) const { return FindAttrValue(node_, name).b(); }
std::vector<int64_t> ShapeContext::GetInts(absl::string_view name) const {
  const auto& l = FindAttrValue(node_, name).ints().i();
  return std::vector<int64_t>(l.begin(), l.end());
}

void ShapeContext::SetOutput(int i, SymShape shape, DataType dtype) {
  output_shapes_[i] = std::move(shape);
  output_dtypes_[i] = dtype;
}

void ShapeContext::AddParam(std::string slot, Shape shape, InitializerDef init) {
  params_.push_back(ParamSlot{std::move(slot), std::move(shape), std::move(init)});
}

absl::Status ShapeContext::InputError(int i, absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat("input '", input_name(i), "' ", message));
}

absl::Status ShapeContext::AttrError(absl::string_view attr, absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat("attribute '", attr, "' ", message));
}

absl::Status ShapeContext::ExpectRank(int i, const std::vector<std::string>& axis_names) const {
  const SymShape& s = input_shape(i);
  if (s.size() == axis_names.size()) return absl::OkStatus();
  // Name the actual axes from the right, as the expected ones are named.
  std::vector<std::string> got_names(s.size());
  for (size_t k = 0; k < s.size() && k < axis_names.size(); ++k) {
    got_names[s.size() - 1 - k] = axis_names[axis_names.size() - 1 - k];
  }
  return InputError(
      i, absl::StrCat("must have rank ", axis_names.size(), " [", absl::StrJoin(axis_names, ","),
                      "]; got ", ShapeToString(s, got_names)));
}

absl::Status ShapeContext::ExpectMinRank(int i, int min_rank) const {
  const SymShape& s = input_shape(i);
  if (static_cast<int>(s.size()) >= min_rank) return absl::OkStatus();
  return InputError(i, absl::StrCat("must have rank >= ", min_rank, "; got ", ShapeToString(s)));
}

absl::Status ShapeContext::ExpectDtype(int i, DataType dtype) const {
  if (input_dtype(i) == dtype) return absl::OkStatus();
  return InputError(
      i, absl::StrCat("must be ", DataType_Name(dtype), "; got ", DataType_Name(input_dtype(i))));
}

absl::StatusOr<int64_t> ShapeContext::KnownLastDim(int i) const {
  RF_RETURN_IF_ERROR(ExpectMinRank(i, 1));
  const Dim& d = input_shape(i).back();
  if (!d.known()) {
    return InputError(i, absl::StrCat("must have a known last (feature) dimension; got ",
                                      ShapeToString(input_shape(i))));
  }
  return d.size;
}

// ---------------------------------------------------------------------------
// OpSchema

OpSchema& OpSchema::Doc(std::string doc) {
  doc_ = std::move(doc);
  return *this;
}
OpSchema& OpSchema::Input(std::string name, std::string doc) {
  inputs_.push_back(ArgSpec{std::move(name), std::move(doc)});
  return *this;
}
OpSchema& OpSchema::OptionalInput(std::string name, std::string doc) {
  Input(std::move(name), std::move(doc));
  inputs_.back().optional = true;
  return *this;
}
OpSchema& OpSchema::VariadicInput(std::string name, std::string doc) {
  Input(std::move(name), std::move(doc));
  inputs_.back().variadic = true;
  return *this;
}
OpSchema& OpSchema::NonDifferentiableInput(std::string name, std::string doc) {
  Input(std::move(name), std::move(doc));
  inputs_.back().differentiable = false;
  return *this;
}
OpSchema& OpSchema::OptionalNonDifferentiableInput(std::string name, std::string doc) {
  OptionalInput(std::move(name), std::move(doc));
  inputs_.back().differentiable = false;
  return *this;
}
OpSchema& OpSchema::Output(std::string name, std::string doc) {
  outputs_.push_back(ArgSpec{std::move(name), std::move(doc)});
  return *this;
}
OpSchema& OpSchema::Attr(std::string name, AttrType type, std::string doc) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.required = true;
  spec.doc = std::move(doc);
  attrs_.push_back(std::move(spec));
  return *this;
}
OpSchema& OpSchema::Attr(std::string name, AttrType type, AttrValue default_value,
                         std::string doc) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.doc = std::move(doc);
  attrs_.push_back(std::move(spec));
  return *this;
}
OpSchema& OpSchema::AllowedValues(std::vector<std::string> values) {
  attrs_.back().allowed_values = std::move(values);
  return *this;
}
OpSchema& OpSchema::ParamsDoc(std::string doc) {
  params_doc_ = std::move(doc);
  return *this;
}
OpSchema& OpSchema::Loss() {
  is_loss_ = true;
  return *this;
}
OpSchema& OpSchema::CarriedState(std::string state_input, std::string state_output) {
  carried_states_.emplace_back(std::move(state_input), std::move(state_output));
  return *this;
}
OpSchema& OpSchema::SetShapeFn(ShapeFn fn) {
  shape_fn_ = std::move(fn);
  return *this;
}

const AttrSpec* OpSchema::FindAttr(absl::string_view name) const {
  for (const AttrSpec& a : attrs_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}
int OpSchema::FindInput(absl::string_view name) const {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}
int OpSchema::FindOutput(absl::string_view name) const {
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (outputs_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// OpRegistry

OpRegistry& OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry();
  return *registry;
}

void OpRegistry::Register(OpSchema schema) {
  std::string name = schema.name();
  schemas_.insert_or_assign(std::move(name), std::move(schema));
}

const OpSchema* OpRegistry::Find(absl::string_view name) const {
  auto it = schemas_.find(name);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, schema] : schemas_) names.push_back(name);
  return names;
}

AttrValue IntAttr(int64_t v) {
  AttrValue a;
  a.set_i(v);
  return a;
}
AttrValue FloatAttr(float v) {
  AttrValue a;
  a.set_f(v);
  return a;
}
AttrValue StringAttr(std::string v) {
  AttrValue a;
  a.set_s(std::move(v));
  return a;
}
AttrValue BoolAttr(bool v) {
  AttrValue a;
  a.set_b(v);
  return a;
}
AttrValue IntsAttr(std::vector<int64_t> v) {
  AttrValue a;
  for (int64_t x : v) a.mutable_ints()->add_i(x);
  return a;
}

InitializerDef MakeInit(std::string kind, float scale, float value) {
  InitializerDef init;
  init.set_kind(std::move(kind));
  init.set_scale(scale);
  init.set_value(value);
  return init;
}

}  // namespace rnnflow
