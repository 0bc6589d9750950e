// Symbolic tensor shapes. A dimension is either a known size or a symbol
// ("T", "N") bound only when a plan is compiled for concrete sizes.
#ifndef RNNFLOW_GRAPH_SHAPE_H_
#define RNNFLOW_GRAPH_SHAPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace rnnflow {

struct Dim {
  int64_t size = -1;   // >= 0 when known
  std::string symbol;  // set when size < 0

  static Dim Known(int64_t n) { return Dim{n, ""}; }
  static Dim Symbol(std::string s) { return Dim{-1, std::move(s)}; }
  bool known() const { return size >= 0; }
  bool operator==(const Dim& o) const { return size == o.size && symbol == o.symbol; }
  bool operator!=(const Dim& o) const { return !(*this == o); }
  std::string ToString() const;
};

using SymShape = std::vector<Dim>;

// "[T,N,64]".
std::string ShapeToString(const SymShape& s);
// "[N=32,C=128]" style with axis names, used in error messages.
std::string ShapeToString(const SymShape& s, const std::vector<std::string>& axis_names);
// Parses "64" or "T".
Dim ParseDim(const std::string& text);

// Concrete shapes once symbols are bound.
using Shape = std::vector<int64_t>;
std::string ShapeToString(const Shape& s);
int64_t NumElements(const Shape& s);
// "[3,1]": the index along each axis of element `flat` (row-major) of a
// tensor of shape `s`, for errors that name an element.
std::string PositionString(const Shape& s, int64_t flat);

using SymbolBindings = absl::flat_hash_map<std::string, int64_t>;
absl::StatusOr<Shape> Bind(const SymShape& s, const SymbolBindings& bindings);

}  // namespace rnnflow

#endif  // RNNFLOW_GRAPH_SHAPE_H_
