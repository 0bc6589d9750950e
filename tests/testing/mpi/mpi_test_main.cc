// The main() of the MPI tests (tests/mpi/*_test.cc, run by ctest under
// `mpiexec -np 2`): initialises MPI for TestWorld() and keeps gtest's
// result printer on rank 0 only; every rank runs every test.
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/mpi/equivalence.h"

namespace rnnflow {
namespace {
MpiWorld* g_world = nullptr;
}  // namespace

MpiWorld* TestWorld() { return g_world; }

}  // namespace rnnflow

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  auto world = rnnflow::MpiWorld::Init(&argc, &argv);
  if (!world.ok()) {
    fprintf(stderr, "%s\n", std::string(world.status().message()).c_str());
    return 1;
  }
  rnnflow::g_world = world->get();
  if ((*world)->rank() != 0) {
    delete testing::UnitTest::GetInstance()->listeners().Release(
        testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  return RUN_ALL_TESTS();
}
