// base/version.h: rnnflow's version is the project version CMake builds, and
// the libraries it runs on report the versions this test was compiled against.
#include "rnnflow/base/version.h"

#include <mpi.h>
#include <oneapi/dnnl/dnnl_version.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/common.h"
#include "gtest/gtest.h"

namespace rnnflow {
namespace {

using testing::ElementsAre;
using testing::Field;
using testing::MatchesRegex;
using testing::StartsWith;

TEST(VersionTest, IsTheProjectVersionOfCMakeLists) {
  std::ifstream file(RNNFLOW_SOURCE_DIR "/CMakeLists.txt");
  std::stringstream text;
  text << file.rdbuf();
  std::smatch match;
  const std::string cmake = text.str();
  ASSERT_TRUE(std::regex_search(cmake, match, std::regex(R"(project\(rnnflow VERSION (\S+))")));
  EXPECT_EQ(Version(), match[1].str());
}

TEST(VersionTest, GitCommitIsAnAbbreviatedHashOrUnknown) {
  EXPECT_THAT(GitCommit(), MatchesRegex("[0-9a-f]{12}|unknown"));
}

TEST(VersionTest, EachLinkedLibraryReportsItsVersion) {
  const std::vector<LibraryVersion> versions = LibraryVersions();
  ASSERT_THAT(versions, ElementsAre(Field(&LibraryVersion::name, "MPI"),
                                    Field(&LibraryVersion::name, "oneDNN"),
                                    Field(&LibraryVersion::name, "protobuf")));
#ifdef OPEN_MPI
  EXPECT_EQ(versions[0].version, absl::StrCat("Open MPI v", OMPI_MAJOR_VERSION, ".",
                                              OMPI_MINOR_VERSION, ".", OMPI_RELEASE_VERSION));
#endif
  EXPECT_THAT(versions[1].version,
              StartsWith(absl::StrCat(DNNL_VERSION_MAJOR, ".", DNNL_VERSION_MINOR, ".",
                                      DNNL_VERSION_PATCH, " (commit ")));
  EXPECT_EQ(versions[2].version,
            google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
}

TEST(VersionTest, ReportHasALineForRnnflowAndEachLibrary) {
  const std::vector<LibraryVersion> v = LibraryVersions();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(VersionReport(), absl::StrCat("rnnflow ", Version(), " (commit ", GitCommit(), ")\n",
                                          "  MPI: ", v[0].version, "\n", "  oneDNN: ", v[1].version,
                                          "\n", "  protobuf: ", v[2].version, "\n"));
}

}  // namespace
}  // namespace rnnflow
