// `rnnflow prepare text|series`: turns a text corpus into a vocabulary and
// token files (dataset/corpus.h), or CSV columns into a normalised float
// series (dataset/csv.h), streaming with bounded memory.
#ifndef RNNFLOW_TOOLS_PREPARE_COMMAND_H_
#define RNNFLOW_TOOLS_PREPARE_COMMAND_H_

#include <string>
#include <vector>

namespace rnnflow {

// `args` are the words after the verb. Returns the process exit code: 0 on
// success, 1 on a data error (reported on stderr as FILE:LINE:COL: ...), 2 on
// a usage error.
int RunPrepare(const std::vector<std::string>& args);

}  // namespace rnnflow

#endif  // RNNFLOW_TOOLS_PREPARE_COMMAND_H_
