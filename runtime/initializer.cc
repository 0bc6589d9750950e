#include "rnnflow/runtime/initializer.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace rnnflow {

uint64_t StableHash(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 1099511628211ULL);
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

absl::Status InitializeTensor(const InitializerDef& init, const std::string& name, uint64_t seed,
                              const Tensor& out) {
  float* p = out.f32();
  const int64_t n = out.num_elements();
  std::mt19937_64 rng(StableHash(name, seed));
  const std::string& kind = init.kind();
  if (kind == "zeros" || kind.empty()) {
    std::fill(p, p + n, 0.f);
  } else if (kind == "ones") {
    std::fill(p, p + n, 1.f);
  } else if (kind == "constant") {
    std::fill(p, p + n, init.value());
  } else if (kind == "uniform" || kind == "glorot_uniform") {
    float limit = init.scale() > 0 ? init.scale() : 0.05f;
    if (kind == "glorot_uniform") {
      const double fan_in = out.rank() > 1 ? out.dim(0) : 1;
      const double fan_out = out.dim(-1);
      limit = static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
    }
    std::uniform_real_distribution<float> dist(-limit, limit);
    for (int64_t i = 0; i < n; ++i) p[i] = dist(rng);
  } else if (kind == "normal") {
    std::normal_distribution<float> dist(0.f, init.scale() > 0 ? init.scale() : 0.05f);
    for (int64_t i = 0; i < n; ++i) p[i] = dist(rng);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", name, "': unknown initializer '", kind, "'"));
  }
  return absl::OkStatus();
}

}  // namespace rnnflow
