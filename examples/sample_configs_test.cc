// Loads every sample config the examples ship (the paths are the test's
// arguments, see BUILD.bazel): *server.json as a ServerConfig, *client.json
// as a ClientConfig. Each must load, name an address, and make options.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tao/message/config.h"

namespace {

std::vector<std::string>* paths = nullptr;

TEST(SampleConfigsTest, EverySampleLoads) {
  ASSERT_GE(paths->size(), 19u);  // every sample in SAMPLE_CONFIGS, at least
  for (const std::string& path : *paths) {
    SCOPED_TRACE(path);
    if (absl::EndsWith(path, "server.json")) {
      absl::StatusOr<tao::ServerSettings> settings =
          tao::LoadServerConfig(path);
      ASSERT_TRUE(settings.ok()) << settings.status();
      EXPECT_FALSE(settings->address.empty());
      EXPECT_TRUE(tao::MakeServerOptions(*settings).ok());
    } else {
      ASSERT_TRUE(absl::EndsWith(path, "client.json"));
      absl::StatusOr<tao::ClientSettings> settings =
          tao::LoadClientConfig(path);
      ASSERT_TRUE(settings.ok()) << settings.status();
      EXPECT_FALSE(settings->address.empty());
      EXPECT_TRUE(tao::MakeClientOptions(*settings).ok());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  paths = new std::vector<std::string>(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
