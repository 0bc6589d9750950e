// Reading a whole file (base/read_file.h): every byte, and errors that name
// the path and the reason.
#include "rnnflow/base/read_file.h"

#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnflow {
namespace {

TEST(ReadFileTest, ReadsEveryByte) {
  const std::string path = ::testing::TempDir() + "/read_file_bytes";
  const std::string bytes("line one\r\n\0binary\xff\nend", 22);
  std::ofstream(path, std::ios::binary) << bytes;
  auto read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);

  std::ofstream(path, std::ios::binary | std::ios::trunc);
  read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TEST(ReadFileTest, AMissingFileIsNotFoundNamingItAndWhy) {
  const std::string path = ::testing::TempDir() + "/read_file_absent";
  auto read = ReadFileToString(path);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(absl::IsNotFound(read.status()));
  EXPECT_EQ(read.status().message(), path + ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace rnnflow
