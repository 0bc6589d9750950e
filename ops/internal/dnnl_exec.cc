#include "rnnflow/ops/internal/dnnl_exec.h"

#include "absl/strings/str_cat.h"

namespace rnnflow {

DnnlExec MakeReorder(const dnnl::memory& src, const dnnl::memory& dst, bool accumulate) {
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    attr.set_post_ops(ops);
  }
  dnnl::reorder::primitive_desc pd(src, dst, attr);
  DnnlExec e;
  e.primitive = dnnl::reorder(pd);
  e.args = {{DNNL_ARG_FROM, src.get()}, {DNNL_ARG_TO, dst.get()}};
  e.keep = {src, dst};  // the argument list holds raw handles
  return e;
}

absl::Status RunDnnl(const DnnlExec& exec, const dnnl::stream& stream, absl::string_view who,
                     absl::string_view what) {
  const dnnl_status_t s = dnnl_primitive_execute(
      exec.primitive.get(), stream.get(), static_cast<int>(exec.args.size()), exec.args.data());
  if (s != dnnl_success) {
    return absl::InternalError(
        absl::StrCat("oneDNN ", who, " ", what, " failed (status ", static_cast<int>(s), ")"));
  }
  return absl::OkStatus();
}

void BindData(const dnnl::memory& mem, const void* data) {
  mem.set_data_handle(const_cast<void*>(data));
}

absl::Status DnnlError(absl::string_view what, const dnnl::error& e) {
  return absl::InternalError(absl::StrCat("oneDNN ", what, " failed (status ",
                                          static_cast<int>(e.status), "): ", e.what()));
}

}  // namespace rnnflow
