// `rnnflow check-reference CASE.json...`: runs PyTorch reference cases
// through rnnflow's fused recurrent ops and reports the error of every output
// and gradient (conformance/reference_case.h).
#ifndef RNNFLOW_TOOLS_CHECK_REFERENCE_COMMAND_H_
#define RNNFLOW_TOOLS_CHECK_REFERENCE_COMMAND_H_

#include <string>
#include <vector>

namespace rnnflow {

// `args` are the words after the verb. Returns the process exit code: 0 when
// every error of every case is within the tolerance, 1 otherwise (including
// any bad input, which is reported on stderr).
int RunCheckReference(const std::vector<std::string>& args);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_CHECK_REFERENCE_COMMAND_H_
