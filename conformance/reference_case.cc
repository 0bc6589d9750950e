#include "rnnflow/conformance/reference_case.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rnnflow/base/read_file.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/conformance/torch_import.h"

namespace rnnflow {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// ---------------------------------------------------------------------------
// Registry plumbing.

absl::Status Prefixed(const RecurrentNodeSpec& spec, const absl::Status& s) {
  return absl::Status(s.code(),
                      absl::StrCat("node '", spec.name, "' (", spec.op, "): ", s.message()));
}

// ---------------------------------------------------------------------------
// Small JSON helpers on google::protobuf::Struct.

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

absl::StatusOr<Struct> ParseJsonObject(const std::string& path, const std::string& text) {
  Struct root;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &root);
  if (!status.ok()) {
    std::string why(status.message());
    std::replace(why.begin(), why.end(), '\n', ' ');
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed JSON: ", why));
  }
  return root;
}

const Value* Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

absl::StatusOr<const Struct*> ObjectField(const std::string& path, const Struct& s,
                                          const std::string& key) {
  const Value* v = Field(s, key);
  if (v == nullptr || v->kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": missing or non-object field \"", key, "\""));
  }
  return &v->struct_value();
}

absl::StatusOr<std::string> StringField(const std::string& path, const Struct& s,
                                        const std::string& key) {
  const Value* v = Field(s, key);
  if (v == nullptr || v->kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": missing or non-string field \"", key, "\""));
  }
  return v->string_value();
}

absl::StatusOr<int64_t> IntField(const std::string& path, const Struct& s, const std::string& key,
                                 int64_t min_value) {
  const Value* v = Field(s, key);
  if (v == nullptr || v->kind_case() != Value::kNumberValue ||
      v->number_value() != std::floor(v->number_value()) ||
      v->number_value() < static_cast<double>(min_value) || v->number_value() > 9.0e15) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field \"", key, "\" must be an integer >= ", min_value));
  }
  return static_cast<int64_t>(v->number_value());
}

absl::StatusOr<bool> BoolField(const std::string& path, const Struct& s, const std::string& key) {
  const Value* v = Field(s, key);
  if (v == nullptr || v->kind_case() != Value::kBoolValue) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": missing or non-boolean field \"", key, "\""));
  }
  return v->bool_value();
}

// Reads the tensors of one "tensors_f32"/"tensors_f64" table.
absl::Status ReadTensorTable(const std::string& path, const Struct& table, bool f64,
                             std::map<std::string, std::string>& files,
                             std::map<std::string, ReferenceTensor>& out) {
  const std::string dir = DirName(path);
  const char* const want_dtype = f64 ? "float64" : "float32";
  const size_t elem = f64 ? sizeof(double) : sizeof(float);
  for (const auto& [name, value] : table.fields()) {
    const std::string where = absl::StrCat(path, ": tensor \"", name, "\"");
    if (value.kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
    }
    const Struct& t = value.struct_value();
    RF_ASSIGN_OR_RETURN(const std::string file, StringField(where, t, "file"));
    RF_ASSIGN_OR_RETURN(const std::string dtype, StringField(where, t, "dtype"));
    RF_ASSIGN_OR_RETURN(const int64_t offset, IntField(where, t, "offset", 0));
    RF_ASSIGN_OR_RETURN(const int64_t nbytes, IntField(where, t, "nbytes", 0));
    if (dtype != want_dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": dtype \"", dtype, "\", expected \"", want_dtype, "\""));
    }
    const Value* shape_v = Field(t, "shape");
    if (shape_v == nullptr || shape_v->kind_case() != Value::kListValue) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": missing \"shape\" list"));
    }
    Shape shape;
    for (const Value& d : shape_v->list_value().values()) {
      if (d.kind_case() != Value::kNumberValue || d.number_value() < 0 ||
          d.number_value() != std::floor(d.number_value()) || d.number_value() > 1e9) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": bad shape entry"));
      }
      shape.push_back(static_cast<int64_t>(d.number_value()));
    }
    const int64_t count = NumElements(shape);
    if (count < 0 || static_cast<uint64_t>(count) * elem != static_cast<uint64_t>(nbytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": nbytes ", nbytes, " does not match shape ", ShapeToString(shape)));
    }
    const std::string file_path = absl::StrCat(dir, "/", file);
    auto it = files.find(file_path);
    if (it == files.end()) {
      RF_ASSIGN_OR_RETURN(std::string data, ReadFileToString(file_path));
      it = files.emplace(file_path, std::move(data)).first;
    }
    const std::string& data = it->second;
    if (static_cast<uint64_t>(offset) + static_cast<uint64_t>(nbytes) > data.size()) {
      return absl::OutOfRangeError(absl::StrCat(where, ": bytes [", offset, ", ", offset + nbytes,
                                                ") lie beyond the end of ", file_path, " (",
                                                data.size(), " bytes)"));
    }
    ReferenceTensor& rt = out[name];
    if (!rt.shape.empty() && rt.shape != shape) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": float32 and float64 shapes differ"));
    }
    rt.shape = shape;
    if (f64) {
      rt.f64.resize(count);
      std::memcpy(rt.f64.data(), data.data() + offset, nbytes);
    } else {
      rt.f32.resize(count);
      std::memcpy(rt.f32.data(), data.data() + offset, nbytes);
    }
  }
  return absl::OkStatus();
}

double MaxRelError(const std::vector<float>& ours, const ReferenceTensor& ref) {
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double r = ref.f64.empty() ? ref.f32[i] : ref.f64[i];
    max_ref = std::max(max_ref, std::fabs(r));
    const double diff = std::fabs(static_cast<double>(ours[i]) - r);
    // NaN must fail the comparison.
    max_diff = std::isnan(diff) ? INFINITY : std::max(max_diff, diff);
  }
  return max_ref > 0 ? max_diff / max_ref : max_diff;
}

}  // namespace

// ---------------------------------------------------------------------------

RnnCell SpecCell(const RecurrentNodeSpec& spec) {
  if (spec.op == "LSTM") return RnnCell::kLstm;
  if (spec.op == "GRU") return spec.linear_before_reset ? RnnCell::kLbrGru : RnnCell::kGru;
  return spec.activation == "relu" ? RnnCell::kRnnRelu : RnnCell::kRnnTanh;
}

absl::StatusOr<RecurrentNode> BuildRecurrentNode(const RecurrentNodeSpec& spec) {
  const OpSchema* schema = OpRegistry::Global().Find(spec.op);
  if (schema == nullptr) {
    return Prefixed(spec, absl::NotFoundError("no such op is registered"));
  }
  RecurrentNode result;
  result.node = std::make_unique<NodeDef>();
  NodeDef& node = *result.node;
  node.set_name(spec.name);
  node.set_op(spec.op);
  auto& attrs = *node.mutable_attr();
  attrs["hidden"] = IntAttr(spec.hidden);
  attrs["layers"] = IntAttr(spec.layers);
  attrs["direction"] = StringAttr(spec.bidirectional ? "bidirectional" : "forward");
  if (spec.op == "RNN") attrs["activation"] = StringAttr(spec.activation);
  if (spec.op == "GRU") attrs["linear_before_reset"] = BoolAttr(spec.linear_before_reset);
  if (spec.bf16) attrs["precision"] = StringAttr("bf16");
  for (const AttrSpec& a : schema->attrs()) {
    if (attrs.find(a.name) != attrs.end()) continue;
    if (a.required) {
      return Prefixed(spec,
                      absl::InvalidArgumentError(absl::StrCat("missing attribute '", a.name, "'")));
    }
    attrs[a.name] = a.default_value;
  }

  const int num_inputs = static_cast<int>(schema->inputs().size());
  const int64_t d = spec.bidirectional ? 2 : 1;
  const SymShape x = {Dim::Known(spec.T), Dim::Known(spec.N), Dim::Known(spec.C)};
  const SymShape state = {Dim::Known(spec.layers * d), Dim::Known(spec.N), Dim::Known(spec.hidden)};
  std::vector<const SymShape*> shapes(num_inputs, nullptr);
  shapes[0] = &x;
  const int h0_index = schema->FindInput("h0");
  const int c0_index = schema->FindInput("c0");
  if (spec.with_h0 && h0_index >= 0) shapes[h0_index] = &state;
  if (spec.with_c0 && c0_index >= 0) shapes[c0_index] = &state;
  const SymShape lengths = {Dim::Known(spec.N)};
  const SymShape resets = {Dim::Known(spec.T), Dim::Known(spec.N)};
  std::vector<DataType> dtypes(num_inputs, FLOAT32);
  const int lengths_index = schema->FindInput("lengths");
  const int resets_index = schema->FindInput("resets");
  if (lengths_index >= 0) dtypes[lengths_index] = INT32;
  if (spec.with_lengths && lengths_index >= 0) shapes[lengths_index] = &lengths;
  if (spec.with_resets && resets_index >= 0) shapes[resets_index] = &resets;
  ShapeContext ctx(*schema, node, shapes, dtypes);
  if (!schema->shape_fn()) {
    return Prefixed(spec, absl::InternalError("schema has no shape function"));
  }
  const absl::Status shape_status = schema->shape_fn()(ctx);
  if (!shape_status.ok()) return Prefixed(spec, shape_status);

  KernelInit init;
  init.node_name = spec.name;
  init.op = spec.op;
  init.attrs = &node.attr();
  result.num_declared_inputs = num_inputs;
  for (int i = 0; i < num_inputs; ++i) {
    const bool present = shapes[i] != nullptr;
    Shape s;
    if (present) {
      RF_ASSIGN_OR_RETURN(s, Bind(*shapes[i], {}));
    }
    init.input_shapes.push_back(s);
    init.input_present.push_back(present);
  }
  result.params = ctx.params();
  for (const ParamSlot& p : result.params) {
    init.input_shapes.push_back(p.shape);
    init.input_present.push_back(true);
  }
  init.input_dtypes.assign(init.input_shapes.size(), FLOAT32);
  for (int i = 0; i < num_inputs; ++i) init.input_dtypes[i] = dtypes[i];
  for (size_t i = 0; i < ctx.output_shapes().size(); ++i) {
    RF_ASSIGN_OR_RETURN(Shape s, Bind(ctx.output_shapes()[i], {}));
    init.output_shapes.push_back(s);
    init.output_dtypes.push_back(ctx.output_dtypes()[i]);
  }
  result.input_shapes = init.input_shapes;
  result.input_present = init.input_present;
  result.input_dtypes = init.input_dtypes;
  result.output_shapes = init.output_shapes;
  RF_ASSIGN_OR_RETURN(result.kernel, KernelRegistry::Global().Create(init));
  return result;
}

const ReferenceTensor* ReferenceCase::Find(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

absl::StatusOr<ReferenceCase> LoadReferenceCase(const std::string& json_path) {
  RF_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(json_path));
  RF_ASSIGN_OR_RETURN(const Struct root, ParseJsonObject(json_path, text));
  ReferenceCase c;
  c.path = json_path;
  RF_ASSIGN_OR_RETURN(const Struct* config, ObjectField(json_path, root, "config"));
  RF_ASSIGN_OR_RETURN(c.name, StringField(json_path, *config, "name"));
  RF_ASSIGN_OR_RETURN(c.module, StringField(json_path, *config, "module"));
  const Value* nl = Field(*config, "nonlinearity");
  if (nl != nullptr && nl->kind_case() == Value::kStringValue) {
    c.nonlinearity = nl->string_value();
  }
  const absl::StatusOr<RnnCell> cell = TorchModuleCell(c.module, c.nonlinearity);
  if (!cell.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(json_path, ": ", cell.status().message()));
  }
  RF_ASSIGN_OR_RETURN(c.N, IntField(json_path, *config, "N", 1));
  RF_ASSIGN_OR_RETURN(c.T, IntField(json_path, *config, "T", 1));
  RF_ASSIGN_OR_RETURN(c.I, IntField(json_path, *config, "I", 1));
  RF_ASSIGN_OR_RETURN(c.H, IntField(json_path, *config, "H", 1));
  RF_ASSIGN_OR_RETURN(c.layers, IntField(json_path, *config, "num_layers", 1));
  RF_ASSIGN_OR_RETURN(c.bidirectional, BoolField(json_path, *config, "bidirectional"));
  const Value* batch_first = Field(*config, "batch_first");
  if (batch_first != nullptr && batch_first->kind_case() == Value::kBoolValue &&
      batch_first->bool_value()) {
    return absl::UnimplementedError(
        absl::StrCat(json_path, ": batch_first cases are not supported"));
  }

  std::map<std::string, std::string> files;
  RF_ASSIGN_OR_RETURN(const Struct* t32, ObjectField(json_path, root, "tensors_f32"));
  RF_RETURN_IF_ERROR(ReadTensorTable(json_path, *t32, false, files, c.tensors));
  const Value* t64 = Field(root, "tensors_f64");
  if (t64 != nullptr) {
    if (t64->kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(
          absl::StrCat(json_path, ": \"tensors_f64\" is not an object"));
    }
    RF_RETURN_IF_ERROR(ReadTensorTable(json_path, t64->struct_value(), true, files, c.tensors));
  }
  for (const auto& [name, t] : c.tensors) {
    if (t.f32.empty() && NumElements(t.shape) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(json_path, ": tensor \"", name, "\" has float64 data but no float32 data"));
    }
  }
  return c;
}

absl::StatusOr<std::vector<std::string>> ListReferenceCases(const std::string& index_path) {
  RF_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(index_path));
  RF_ASSIGN_OR_RETURN(const Struct root, ParseJsonObject(index_path, text));
  const Value* cases = Field(root, "cases");
  if (cases == nullptr || cases->kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, ": missing \"cases\" list"));
  }
  std::vector<std::string> paths;
  const std::string dir = DirName(index_path);
  for (const Value& v : cases->list_value().values()) {
    if (v.kind_case() != Value::kStringValue) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": \"cases\" entries must be strings"));
    }
    paths.push_back(absl::StrCat(dir, "/", v.string_value(), ".json"));
  }
  return paths;
}

absl::StatusOr<ReferenceResult> RunReferenceCase(const ReferenceCase& c) {
  const std::string& path = c.path;
  auto fail = [&path](absl::string_view msg) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", msg));
  };
  RF_ASSIGN_OR_RETURN(const RnnCell cell, TorchModuleCell(c.module, c.nonlinearity));
  const bool lstm = cell == RnnCell::kLstm;
  const int64_t d = c.bidirectional ? 2 : 1;
  const int64_t g = RnnGateCount(cell);
  const Shape state_shape = {c.layers * d, c.N, c.H};

  auto expect = [&](const std::string& name, const Shape& shape,
                    bool required) -> absl::StatusOr<const ReferenceTensor*> {
    const ReferenceTensor* t = c.Find(name);
    if (t == nullptr) {
      if (required) return fail(absl::StrCat("missing tensor \"", name, "\""));
      return nullptr;
    }
    if (t->shape != shape) {
      return fail(absl::StrCat("tensor \"", name, "\" has shape ", ShapeToString(t->shape),
                               ", expected ", ShapeToString(shape)));
    }
    return t;
  };

  RF_ASSIGN_OR_RETURN(const ReferenceTensor* x, expect("x", {c.T, c.N, c.I}, true));
  RF_ASSIGN_OR_RETURN(const ReferenceTensor* h0, expect("h0", state_shape, false));
  const ReferenceTensor* c0 = nullptr;
  if (lstm) {
    RF_ASSIGN_OR_RETURN(c0, expect("c0", state_shape, false));
  }

  RecurrentNodeSpec spec;
  spec.name = c.name;
  spec.op = c.module;
  spec.hidden = c.H;
  spec.layers = c.layers;
  spec.bidirectional = c.bidirectional;
  spec.activation = c.nonlinearity.empty() ? "tanh" : c.nonlinearity;
  spec.linear_before_reset = true;
  spec.T = c.T;
  spec.N = c.N;
  spec.C = c.I;
  spec.with_h0 = h0 != nullptr;
  spec.with_c0 = c0 != nullptr;
  RF_ASSIGN_OR_RETURN(RecurrentNode node, BuildRecurrentNode(spec));

  // Buffers for every input, output and gradient.
  const size_t num_inputs = node.input_shapes.size();
  std::vector<std::vector<float>> in(num_inputs), in_grad(num_inputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    if (!node.input_present[i]) continue;
    in[i].assign(NumElements(node.input_shapes[i]), 0.f);
    in_grad[i].assign(in[i].size(), 0.f);
  }
  in[0] = x->f32;
  if (h0 != nullptr) in[1] = h0->f32;
  if (c0 != nullptr) in[2] = c0->f32;

  // Parameters: find each slot by name and import PyTorch's weights.
  auto slot_index = [&node](const std::string& slot) -> int {
    for (size_t p = 0; p < node.params.size(); ++p) {
      if (node.params[p].name == slot) return node.num_declared_inputs + static_cast<int>(p);
    }
    return -1;
  };
  struct DirSlots {
    int64_t layer, input;
    int dir;
    int w_x, w_h, b;
  };
  std::vector<DirSlots> dirs;
  for (int64_t k = 0; k < c.layers; ++k) {
    const int64_t input = k == 0 ? c.I : d * c.H;
    for (int dir = 0; dir < d; ++dir) {
      const std::string prefix = absl::StrCat("l", k, dir ? "_reverse" : "", "/");
      DirSlots s{k,
                 input,
                 dir,
                 slot_index(prefix + "w_x"),
                 slot_index(prefix + "w_h"),
                 slot_index(prefix + "b")};
      if (s.w_x < 0 || s.w_h < 0 || s.b < 0) {
        return fail(absl::StrCat("the ", c.module, " schema declares no parameter ", prefix,
                                 "{w_x,w_h,b}"));
      }
      TorchLayerParams tp;
      RF_ASSIGN_OR_RETURN(const ReferenceTensor* wih,
                          expect(TorchParamName("weight_ih", k, dir), {g * c.H, input}, true));
      RF_ASSIGN_OR_RETURN(const ReferenceTensor* whh,
                          expect(TorchParamName("weight_hh", k, dir), {g * c.H, c.H}, true));
      RF_ASSIGN_OR_RETURN(const ReferenceTensor* bih,
                          expect(TorchParamName("bias_ih", k, dir), {g * c.H}, false));
      RF_ASSIGN_OR_RETURN(const ReferenceTensor* bhh,
                          expect(TorchParamName("bias_hh", k, dir), {g * c.H}, false));
      tp.weight_ih = wih->f32.data();
      tp.weight_hh = whh->f32.data();
      tp.bias_ih = bih != nullptr ? bih->f32.data() : nullptr;
      tp.bias_hh = bhh != nullptr ? bhh->f32.data() : nullptr;
      RF_RETURN_IF_ERROR(TorchToCanonical(cell, input, c.H, tp, in[s.w_x].data(), in[s.w_h].data(),
                                          in[s.b].data()));
      dirs.push_back(s);
    }
  }

  const size_t num_outputs = node.output_shapes.size();
  std::vector<std::vector<float>> out(num_outputs), out_grad(num_outputs);
  for (size_t o = 0; o < num_outputs; ++o) {
    out[o].assign(NumElements(node.output_shapes[o]), 0.f);
  }

  KernelContext ctx;
  for (size_t i = 0; i < num_inputs; ++i) {
    ctx.inputs.emplace_back(FLOAT32, node.input_shapes[i],
                            node.input_present[i] ? in[i].data() : nullptr);
  }
  for (size_t o = 0; o < num_outputs; ++o) {
    ctx.outputs.emplace_back(FLOAT32, node.output_shapes[o], out[o].data());
  }
  RF_RETURN_IF_ERROR(node.kernel->Forward(ctx));

  double loss = 0;
  for (size_t o = 0; o < num_outputs; ++o) {
    out_grad[o].resize(out[o].size());
    for (size_t e = 0; e < out[o].size(); ++e) {
      loss += static_cast<double>(out[o][e]) * out[o][e];
      out_grad[o][e] = 2.f * out[o][e];
    }
    ctx.output_grads.emplace_back(FLOAT32, node.output_shapes[o], out_grad[o].data());
  }
  for (size_t i = 0; i < num_inputs; ++i) {
    ctx.input_grads.emplace_back(FLOAT32, node.input_shapes[i],
                                 node.input_present[i] ? in_grad[i].data() : nullptr);
  }
  RF_RETURN_IF_ERROR(node.kernel->Backward(ctx));

  ReferenceResult result;
  auto compare = [&](const std::string& name, const std::vector<float>& ours, const Shape& shape,
                     bool required) -> absl::Status {
    RF_ASSIGN_OR_RETURN(const ReferenceTensor* ref, expect(name, shape, required));
    if (ref == nullptr) return absl::OkStatus();
    const double e = MaxRelError(ours, *ref);
    result.errors.push_back({name, e});
    result.worst = std::max(result.worst, e);
    return absl::OkStatus();
  };
  RF_RETURN_IF_ERROR(compare("y", out[0], node.output_shapes[0], true));
  RF_RETURN_IF_ERROR(compare("h_n", out[1], node.output_shapes[1], true));
  if (lstm) RF_RETURN_IF_ERROR(compare("c_n", out[2], node.output_shapes[2], true));
  if (const ReferenceTensor* ref_loss = c.Find("loss");
      ref_loss != nullptr && ref_loss->f32.size() == 1) {
    const double r = ref_loss->f64.empty() ? ref_loss->f32[0] : ref_loss->f64[0];
    const double e = std::fabs(loss - r) / std::max(std::fabs(r), 1e-300);
    result.errors.push_back({"loss", e});
    result.worst = std::max(result.worst, e);
  }
  RF_RETURN_IF_ERROR(compare("grad.x", in_grad[0], node.input_shapes[0], false));
  if (h0 != nullptr) RF_RETURN_IF_ERROR(compare("grad.h0", in_grad[1], state_shape, false));
  if (c0 != nullptr) RF_RETURN_IF_ERROR(compare("grad.c0", in_grad[2], state_shape, false));
  for (const DirSlots& s : dirs) {
    std::vector<float> gih(g * c.H * s.input), ghh(g * c.H * c.H), gbi(g * c.H), gbh(g * c.H);
    RF_RETURN_IF_ERROR(CanonicalGradToTorch(
        cell, s.input, c.H, in_grad[s.w_x].data(), in_grad[s.w_h].data(), in_grad[s.b].data(),
        TorchLayerGrads{gih.data(), ghh.data(), gbi.data(), gbh.data()}));
    const std::string suffix = absl::StrCat("_l", s.layer, s.dir ? "_reverse" : "");
    RF_RETURN_IF_ERROR(compare("grad.weight_ih" + suffix, gih, {g * c.H, s.input}, false));
    RF_RETURN_IF_ERROR(compare("grad.weight_hh" + suffix, ghh, {g * c.H, c.H}, false));
    if (c.Find("bias_ih" + suffix) != nullptr) {
      RF_RETURN_IF_ERROR(compare("grad.bias_ih" + suffix, gbi, {g * c.H}, false));
    }
    if (c.Find("bias_hh" + suffix) != nullptr) {
      RF_RETURN_IF_ERROR(compare("grad.bias_hh" + suffix, gbh, {g * c.H}, false));
    }
  }
  return result;
}

}  // namespace rnnflow
