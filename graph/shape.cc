#include "rnnflow/graph/shape.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rnnflow {

std::string Dim::ToString() const { return known() ? absl::StrCat(size) : symbol; }

std::string ShapeToString(const SymShape& s) {
  return absl::StrCat(
      "[",
      absl::StrJoin(s, ",",
                    [](std::string* out, const Dim& d) { absl::StrAppend(out, d.ToString()); }),
      "]");
}

std::string ShapeToString(const SymShape& s, const std::vector<std::string>& axis_names) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string& name = i < axis_names.size() ? axis_names[i] : "";
    if (name.empty() || (!s[i].known() && s[i].symbol == name)) {
      parts.push_back(s[i].ToString());
    } else {
      parts.push_back(absl::StrCat(name, "=", s[i].ToString()));
    }
  }
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

Dim ParseDim(const std::string& text) {
  int64_t n = 0;
  if (absl::SimpleAtoi(text, &n) && n >= 0) return Dim::Known(n);
  return Dim::Symbol(text);
}

std::string ShapeToString(const Shape& s) { return absl::StrCat("[", absl::StrJoin(s, ","), "]"); }

int64_t NumElements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string PositionString(const Shape& s, int64_t flat) {
  std::vector<int64_t> index(s.size());
  for (int i = static_cast<int>(s.size()) - 1; i >= 0; --i) {
    if (s[i] > 0) {
      index[i] = flat % s[i];
      flat /= s[i];
    }
  }
  return absl::StrCat("[", absl::StrJoin(index, ","), "]");
}

absl::StatusOr<Shape> Bind(const SymShape& s, const SymbolBindings& bindings) {
  Shape out;
  out.reserve(s.size());
  for (const Dim& d : s) {
    if (d.known()) {
      out.push_back(d.size);
      continue;
    }
    auto it = bindings.find(d.symbol);
    if (it == bindings.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension '", d.symbol, "' of shape ", ShapeToString(s),
                       " has no value; bind it (e.g. --", d.symbol, "=...)"));
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace rnnflow
