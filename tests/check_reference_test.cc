// Runs every PyTorch reference case of ../shared/reference (the shared folder
// beside the repository; listed in its index.json) through the fused recurrent
// ops and checks every output and gradient against PyTorch's float64 values;
// plus bad-input handling.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rnnflow/conformance/reference_case.h"

namespace rnnflow {
namespace {

using ::testing::HasSubstr;

const char* const kIndex = RNNFLOW_SOURCE_DIR "/../shared/reference/index.json";
constexpr double kTolerance = 1e-4;

TEST(CheckReferenceTest, AllCasesMatchPyTorch) {
  auto cases = ListReferenceCases(kIndex);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_FALSE(cases->empty());
  for (const std::string& path : *cases) {
    SCOPED_TRACE(path);
    auto c = LoadReferenceCase(path);
    ASSERT_TRUE(c.ok()) << c.status();
    auto result = RunReferenceCase(*c);
    ASSERT_TRUE(result.ok()) << result.status();
    // y, h_n and the loss at least, and every gradient of x and the weights.
    EXPECT_GE(result->errors.size(), 3u + 1u + 4u * c->layers);
    for (const ReferenceError& e : result->errors) {
      EXPECT_LE(e.max_rel_error, kTolerance) << c->name << ": " << e.name;
    }
    std::printf("%-24s worst max-rel-error %.3e over %zu tensors\n", c->name.c_str(), result->worst,
                result->errors.size());
  }
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CheckReferenceTest, MissingCaseFileIsAnErrorNamingTheFile) {
  const std::string path = ::testing::TempDir() + "/no_such_case.json";
  auto c = LoadReferenceCase(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path));
  EXPECT_FALSE(ListReferenceCases(path).ok());
}

TEST(CheckReferenceTest, MalformedJsonIsAnErrorNamingTheFile) {
  const std::string path = WriteTemp("malformed_case.json", "{ \"config\": [1, 2,");
  auto c = LoadReferenceCase(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("malformed JSON"));

  const std::string not_object = WriteTemp("array_case.json", "[1, 2, 3]");
  EXPECT_FALSE(LoadReferenceCase(not_object).ok());
}

TEST(CheckReferenceTest, UnknownModuleAndBadTensorsAreErrors) {
  const std::string config =
      "\"config\": {\"name\": \"c\", \"module\": \"%s\", \"nonlinearity\": null, "
      "\"N\": 1, \"T\": 1, \"I\": 1, \"H\": 1, \"num_layers\": 1, "
      "\"bidirectional\": false}";
  auto make = [&config](const char* module, const std::string& tensors) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), config.c_str(), module);
    return "{" + std::string(buf) + ", \"tensors_f32\": {" + tensors + "}}";
  };

  const std::string unknown = WriteTemp("unknown_module.json", make("Transformer", ""));
  auto c = LoadReferenceCase(unknown);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("unknown PyTorch module"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(unknown));

  // A tensor in a binary that does not exist.
  const std::string missing_bin = WriteTemp(
      "missing_bin.json", make("LSTM",
                               "\"x\": {\"file\": \"nope.f32.bin\", \"offset\": 0, \"nbytes\": 4, "
                               "\"dtype\": \"float32\", \"shape\": [1, 1, 1]}"));
  c = LoadReferenceCase(missing_bin);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("nope.f32.bin"));

  // A tensor past the end of its binary.
  WriteTemp("short.f32.bin", "abcd");
  const std::string short_bin = WriteTemp(
      "short_bin.json", make("LSTM",
                             "\"x\": {\"file\": \"short.f32.bin\", \"offset\": 4, \"nbytes\": 4, "
                             "\"dtype\": \"float32\", \"shape\": [1, 1, 1]}"));
  c = LoadReferenceCase(short_bin);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("beyond the end"));

  // Loads, but has no weights: running it is an error, not a crash.
  const std::string no_weights = WriteTemp(
      "no_weights.json", make("LSTM",
                              "\"x\": {\"file\": \"short.f32.bin\", \"offset\": 0, \"nbytes\": 4, "
                              "\"dtype\": \"float32\", \"shape\": [1, 1, 1]}"));
  c = LoadReferenceCase(no_weights);
  ASSERT_TRUE(c.ok()) << c.status();
  auto result = RunReferenceCase(*c);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("weight_ih_l0"));
}

}  // namespace
}  // namespace rnnflow
