// The verbs of the `rnnflow` command. Each takes the arguments after the
// verb and returns the process exit status.
#ifndef RNNFLOW_TOOLS_COMMANDS_H_
#define RNNFLOW_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

namespace rnnflow {

int RunTrain(const std::vector<std::string>& args);
int RunValidate(const std::vector<std::string>& args);
int RunInspect(const std::vector<std::string>& args);
int RunOps(const std::vector<std::string>& args);
int RunEval(const std::vector<std::string>& args);
int RunGenerate(const std::vector<std::string>& args);
int RunPredict(const std::vector<std::string>& args);
int RunDecode(const std::vector<std::string>& args);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_COMMANDS_H_
