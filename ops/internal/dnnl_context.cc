#include "rnnflow/ops/internal/dnnl_context.h"

namespace rnnflow {

dnnl::engine& CpuEngine() {
  static dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& CpuStream() {
  static dnnl::stream* const stream = new dnnl::stream(CpuEngine());
  return *stream;
}

}  // namespace rnnflow
