// The op registry: the single source of truth for every op's inputs,
// outputs, attributes (types and defaults), parameters, shape function and
// documentation. The loader validates against it, shape inference runs its
// shape functions, `rnnflow ops` prints it, and kernels (ops/) are looked up
// by the same names.
#ifndef RNNFLOW_GRAPH_OP_REGISTRY_H_
#define RNNFLOW_GRAPH_OP_REGISTRY_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

enum class AttrType { kInt, kFloat, kString, kBool, kInts, kFloats, kStrings };
const char* AttrTypeName(AttrType t);
// Whether `v` holds a value of type `t`.
bool AttrHasType(const AttrValue& v, AttrType t);
std::string AttrValueToString(const AttrValue& v);

struct AttrSpec {
  std::string name;
  AttrType type = AttrType::kInt;
  bool required = false;
  AttrValue default_value;                  // when !required
  std::vector<std::string> allowed_values;  // strings only; empty = any
  std::string doc;
};

struct ArgSpec {
  std::string name;
  std::string doc;
  bool optional = false;
  bool variadic = false;       // last input only: takes one or more tensors
  bool differentiable = true;  // gradients flow through this input
};

// A trainable tensor a node owns ("enc/l0/w_x"), declared by the shape
// function because its shape depends on attributes and input shapes.
struct ParamSlot {
  std::string name;  // slot name, e.g. "kernel"; the parameter is "node/slot"
  Shape shape;
  InitializerDef init;
};

class OpSchema;

// What a shape function sees and sets. Errors it returns carry no prefix;
// the caller adds "file:line:col: node 'x' (Op): ".
class ShapeContext {
 public:
  ShapeContext(const OpSchema& schema, const NodeDef& node,
               std::vector<const SymShape*> input_shapes, std::vector<DataType> input_dtypes);

  int num_inputs() const { return static_cast<int>(input_shapes_.size()); }
  bool has_input(int i) const { return i < num_inputs() && input_shapes_[i] != nullptr; }
  const SymShape& input_shape(int i) const { return *input_shapes_[i]; }
  DataType input_dtype(int i) const { return input_dtypes_[i]; }
  // Schema name of input i ("x", or "values[2]" for variadic inputs).
  std::string input_name(int i) const;

  int64_t GetInt(absl::string_view name) const;
  float GetFloat(absl::string_view name) const;
  std::string GetString(absl::string_view name) const;
  bool GetBool(absl::string_view name) const;
  std::vector<int64_t> GetInts(absl::string_view name) const;

  void SetOutput(int i, SymShape shape, DataType dtype = FLOAT32);
  void AddParam(std::string slot, Shape shape, InitializerDef init);

  // "input 'x' <message>".
  absl::Status InputError(int i, absl::string_view message) const;
  // "attribute 'units' <message>".
  absl::Status AttrError(absl::string_view attr, absl::string_view message) const;
  // Checks rank, e.g. ExpectRank(0, {"T", "N", "C"}) gives
  // "input 'x' must have rank 3 [T,N,C]; got [N=32,C=128]".
  absl::Status ExpectRank(int i, const std::vector<std::string>& axis_names) const;
  // At least `min_rank` dimensions; the last one is named `last_axis`.
  absl::Status ExpectMinRank(int i, int min_rank) const;
  absl::Status ExpectDtype(int i, DataType dtype) const;
  // The last dimension of input i must be known (a feature width).
  absl::StatusOr<int64_t> KnownLastDim(int i) const;

  const std::vector<SymShape>& output_shapes() const { return output_shapes_; }
  const std::vector<DataType>& output_dtypes() const { return output_dtypes_; }
  const std::vector<ParamSlot>& params() const { return params_; }

 private:
  const OpSchema& schema_;
  const NodeDef& node_;
  std::vector<const SymShape*> input_shapes_;
  std::vector<DataType> input_dtypes_;
  std::vector<SymShape> output_shapes_;
  std::vector<DataType> output_dtypes_;
  std::vector<ParamSlot> params_;
};

using ShapeFn = std::function<absl::Status(ShapeContext&)>;

class OpSchema {
 public:
  explicit OpSchema(std::string name) : name_(std::move(name)) {}

  // Builder interface used at registration.
  OpSchema& Doc(std::string doc);
  OpSchema& Input(std::string name, std::string doc);
  OpSchema& OptionalInput(std::string name, std::string doc);
  OpSchema& VariadicInput(std::string name, std::string doc);
  OpSchema& NonDifferentiableInput(std::string name, std::string doc);
  // Optional and without a gradient (masks, lengths).
  OpSchema& OptionalNonDifferentiableInput(std::string name, std::string doc);
  OpSchema& Output(std::string name, std::string doc);
  OpSchema& Attr(std::string name, AttrType type, std::string doc);  // required
  OpSchema& Attr(std::string name, AttrType type, AttrValue default_value, std::string doc);
  OpSchema& AllowedValues(std::vector<std::string> values);  // last attr
  OpSchema& ParamsDoc(std::string doc);
  // A loss: its single output is a scalar a trainer may minimise.
  OpSchema& Loss();
  // A fused recurrent layer with its own state: when `state_input` is not
  // connected, the runtime carries `state_output` across truncated-BPTT
  // chunks into it (detached).
  OpSchema& CarriedState(std::string state_input, std::string state_output);
  OpSchema& SetShapeFn(ShapeFn fn);

  const std::string& name() const { return name_; }
  const std::string& doc() const { return doc_; }
  const std::vector<ArgSpec>& inputs() const { return inputs_; }
  const std::vector<ArgSpec>& outputs() const { return outputs_; }
  const std::vector<AttrSpec>& attrs() const { return attrs_; }
  const std::string& params_doc() const { return params_doc_; }
  bool is_loss() const { return is_loss_; }
  const std::vector<std::pair<std::string, std::string>>& carried_states() const {
    return carried_states_;
  }
  const ShapeFn& shape_fn() const { return shape_fn_; }

  const AttrSpec* FindAttr(absl::string_view name) const;
  int FindInput(absl::string_view name) const;   // -1 if none
  int FindOutput(absl::string_view name) const;  // -1 if none

 private:
  std::string name_;
  std::string doc_;
  std::vector<ArgSpec> inputs_;
  std::vector<ArgSpec> outputs_;
  std::vector<AttrSpec> attrs_;
  std::string params_doc_;
  bool is_loss_ = false;
  std::vector<std::pair<std::string, std::string>> carried_states_;
  ShapeFn shape_fn_;
};

class OpRegistry {
 public:
  static OpRegistry& Global();
  void Register(OpSchema schema);
  const OpSchema* Find(absl::string_view name) const;
  std::vector<std::string> Names() const;  // sorted

 private:
  std::map<std::string, OpSchema, std::less<>> schemas_;
};

struct OpRegistrar {
  // Implicit on purpose: `RF_REGISTER_OP("X").Doc(...)` converts to it.
  OpRegistrar(const OpSchema& schema) {  // NOLINT(runtime/explicit)
    OpRegistry::Global().Register(schema);
  }
};

// RF_REGISTER_OP("Dense").Doc(...).Input(...)...;
#define RF_REGISTER_OP(name) \
  static ::rnnflow::OpRegistrar RF_CONCAT_(rf_op_reg_, __LINE__) = ::rnnflow::OpSchema(name)

// Attribute value helpers for defaults.
AttrValue IntAttr(int64_t v);
AttrValue FloatAttr(float v);
AttrValue StringAttr(std::string v);
AttrValue BoolAttr(bool v);
AttrValue IntsAttr(std::vector<int64_t> v);

InitializerDef MakeInit(std::string kind, float scale = 0.f, float value = 0.f);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_OP_REGISTRY_H_
