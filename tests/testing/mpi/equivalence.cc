#include "tests/testing/mpi/equivalence.h"

#include <filesystem>

#include "gtest/gtest.h"

namespace rnnflow {

ParamValues CopyParams(const Session& session) {
  ParamValues values;
  for (const Tensor& p : session.params()) values.emplace_back(p.f32(), p.f32() + p.num_elements());
  return values;
}

void ExpectSameParams(const Graph& graph, const ParamValues& parallel, const ParamValues& single,
                      double tolerance) {
  ASSERT_EQ(parallel.size(), single.size());
  for (size_t p = 0; p < single.size(); ++p) {
    for (size_t i = 0; i < single[p].size(); ++i) {
      ASSERT_NEAR(parallel[p][i], single[p][i], tolerance)
          << "parameter " << graph.params()[p].name << "[" << i << "]";
    }
  }
}

std::string FreshRankDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/" + name + "_rank" + std::to_string(TestWorld()->rank());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace rnnflow
