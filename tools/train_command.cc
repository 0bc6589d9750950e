#include <iostream>

#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/load.h"
#include "runtime/trainer.h"

namespace rnnflow {

int RunTrain(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> specs = {
      {"data", "FILE", "training corpus (raw text, byte tokens)"},
      {"steps", "N", "optimizer steps (overrides training.steps)"},
      {"truncation-steps", "T", "steps per truncated-BPTT chunk"},
      {"streams-per-worker", "N", "parallel streams (batch) per worker"},
      {"lr", "X", "base learning rate"},
      {"seed", "S", "random seed (initialisation)"},
      {"threads", "N", "OpenMP threads"},
      {"valid-fraction", "F", "last fraction of the corpus held out (default 0.1)"},
      {"valid-every", "N", "validate every N steps (default: at the end)"},
      {"log-every", "N", "progress line every N steps (default 10)"},
      {"metrics", "FILE", "append one JSON object per step"},
  };
  const std::string usage =
      Usage("train", "MODEL.pbtxt --data CORPUS [flags]",
            "Trains MODEL on CORPUS with truncated backpropagation through time: the corpus is\n"
            "cut into N contiguous streams, each step takes T tokens of every stream, and the\n"
            "hidden state is carried (detached) from one chunk to the next.",
            specs);
  auto flags = ParseFlags(args, specs);
  if (!flags.ok()) return Fail("train", flags.status(), 2);
  if (flags->help) {
    std::cout << usage;
    return 0;
  }
  if (flags->positional.size() != 1 || !flags->Has("data")) {
    std::cerr << usage;
    return 2;
  }
  auto model = LoadGraph(flags->positional[0]);
  if (!model.ok()) return Fail("train", model.status());

  TrainerOptions options;
  options.data_path = flags->Get("data");
  options.metrics_path = flags->Get("metrics");
  options.log = &std::cout;
  absl::Status status;
  auto get_int = [&](const char* name, int64_t fallback) -> int64_t {
    auto v = flags->GetInt(name, fallback);
    if (!v.ok()) {
      status = v.status();
      return fallback;
    }
    return *v;
  };
  options.steps = get_int("steps", -1);
  options.truncation_steps = get_int("truncation-steps", -1);
  options.streams = get_int("streams-per-worker", -1);
  options.seed = get_int("seed", -1);
  options.threads = static_cast<int>(get_int("threads", 0));
  options.valid_every = get_int("valid-every", 0);
  options.log_every = std::max<int64_t>(1, get_int("log-every", 10));
  auto lr = flags->GetDouble("lr", -1);
  auto vf = flags->GetDouble("valid-fraction", 0.1);
  if (!lr.ok()) status = lr.status();
  if (!vf.ok()) status = vf.status();
  if (!status.ok()) return Fail("train", status, 2);
  options.learning_rate = static_cast<float>(*lr);
  options.valid_fraction = *vf;

  auto trainer = Trainer::Create((*model)->graph, options);
  if (!trainer.ok()) return Fail("train", trainer.status());
  auto results = (*trainer)->Run();
  if (!results.ok()) return Fail("train", results.status());
  return 0;
}

}  // namespace rnnflow
