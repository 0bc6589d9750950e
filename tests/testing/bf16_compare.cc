#include "tests/testing/bf16_compare.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gtest/gtest.h"

namespace rnnflow {

double RelativeL2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
    den += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

namespace {

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double err = RelativeL2(got, want);
  EXPECT_LT(err, 3e-2) << what;
  EXPECT_GT(err, 1e-6) << what << ": identical to float32, so bf16 did not run";
}

}  // namespace

void ExpectBf16PassClose(const RnnPass& bf16, const RnnPass& f32, bool lstm) {
  ExpectClose(bf16.y, f32.y, "y");
  ExpectClose(bf16.h_n, f32.h_n, "h_n");
  ExpectClose(bf16.dx, f32.dx, "dx");
  ExpectClose(bf16.dh0, f32.dh0, "dh0");
  if (lstm) {
    ExpectClose(bf16.c_n, f32.c_n, "c_n");
    ExpectClose(bf16.dc0, f32.dc0, "dc0");
  }
  ASSERT_EQ(bf16.dwx.size(), f32.dwx.size());
  for (size_t d = 0; d < bf16.dwx.size(); ++d) {
    const std::string dir = d == 0 ? " (forward)" : " (reverse)";
    ExpectClose(bf16.dwx[d], f32.dwx[d], "dW_x" + dir);
    ExpectClose(bf16.dwh[d], f32.dwh[d], "dW_h" + dir);
    ExpectClose(bf16.db[d], f32.db[d], "db" + dir);
  }
}

}  // namespace rnnflow
