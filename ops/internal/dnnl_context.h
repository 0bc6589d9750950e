// A process-wide oneDNN CPU engine and stream for kernels whose KernelInit
// carries none (unit tests, tools), so that every such kernel shares one.
#ifndef RNNFLOW_OPS_INTERNAL_DNNL_CONTEXT_H_
#define RNNFLOW_OPS_INTERNAL_DNNL_CONTEXT_H_

#include <oneapi/dnnl/dnnl.hpp>

namespace rnnflow {

// Created on first use, never destroyed (safe during static destruction).
dnnl::engine& CpuEngine();
// An in-order stream on CpuEngine().
dnnl::stream& CpuStream();

}  // namespace rnnflow

#endif  // RNNFLOW_OPS_INTERNAL_DNNL_CONTEXT_H_
