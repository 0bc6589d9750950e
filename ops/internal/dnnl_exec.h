// Running oneDNN primitives whose arguments are rebound on every call, as
// the recurrent layers (ops/internal/rnn_layer.h, ops/internal/rnn_varlen_layer.h) do: the
// argument list is built once and executed through the C API, so that a
// call builds no containers and allocates nothing.
#ifndef RNNFLOW_OPS_INTERNAL_DNNL_EXEC_H_
#define RNNFLOW_OPS_INTERNAL_DNNL_EXEC_H_

#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rnnflow {

// A primitive with its argument list.
struct DnnlExec {
  dnnl::primitive primitive;
  std::vector<dnnl_exec_arg_t> args;
  std::vector<dnnl::memory> keep;  // memories `args` refers to
};

// A reorder src -> dst; with `accumulate` it adds into dst. Throws
// dnnl::error.
DnnlExec MakeReorder(const dnnl::memory& src, const dnnl::memory& dst, bool accumulate);

// Executes on `stream`; a failure says "oneDNN <who> <what> failed".
absl::Status RunDnnl(const DnnlExec& exec, const dnnl::stream& stream, absl::string_view who,
                     absl::string_view what);

// Points `mem` at `data`. Memories bound to const data are only read through
// by the primitives whose inputs they are.
void BindData(const dnnl::memory& mem, const void* data);

// An InternalError for a dnnl::error thrown during `what`.
absl::Status DnnlError(absl::string_view what, const dnnl::error& e);

}  // namespace rnnflow

#endif  // RNNFLOW_OPS_INTERNAL_DNNL_EXEC_H_
