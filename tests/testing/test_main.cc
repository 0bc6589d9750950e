// The main() of every gtest binary: each test process works in a scratch
// folder of its own.
//
// ctest runs every test case as its own process, several at a time, and many
// tests write files under ::testing::TempDir() by fixed names. Without this,
// two cases of one binary (or of two binaries) running side by side could
// write the same file at once and fail at random. gtest's TempDir() honours
// TEST_TMPDIR, so pointing it at a fresh mkdtemp() folder isolates them. The
// folder is removed when every test passed and kept (its path printed) when
// one failed, for a look at what it wrote.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string pattern = testing::TempDir() + "rnnflow_test_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror(("mkdtemp " + pattern).c_str());
    return 1;
  }
  setenv("TEST_TMPDIR", pattern.c_str(), /*overwrite=*/1);
  const int result = RUN_ALL_TESTS();
  if (result == 0) {
    std::error_code ignored;
    std::filesystem::remove_all(pattern, ignored);
  } else {
    std::fprintf(stderr, "test files kept in %s\n", pattern.c_str());
  }
  return result;
}
