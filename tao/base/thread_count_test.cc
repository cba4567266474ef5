#include "tao/base/thread_count.h"

#include <thread>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(ThreadCountTest, PositiveAndZeroAreTakenAsIs) {
  EXPECT_EQ(*ResolveThreadCount(3, "x"), 3);
  EXPECT_EQ(*ResolveThreadCount(0, "x"), 0);
}

TEST(ThreadCountTest, PerCoreIsTheHardwareThreadCount) {
  const int hardware =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(*ResolveThreadCount(kOneThreadPerCore, "x"), hardware);
  EXPECT_EQ(*ResolvePositiveThreadCount(kOneThreadPerCore, "x"), hardware);
}

TEST(ThreadCountTest, BelowPerCoreIsRefusedNamingTheOption) {
  absl::StatusOr<int> bad = ResolveThreadCount(-2, "handler_threads");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("handler_threads = -2"),
            absl::string_view::npos);
}

TEST(ThreadCountTest, PositiveVariantRefusesZero) {
  absl::StatusOr<int> zero = ResolvePositiveThreadCount(0, "io_threads");
  ASSERT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("io_threads = 0"),
            absl::string_view::npos);
  EXPECT_EQ(*ResolvePositiveThreadCount(2, "io_threads"), 2);
}

}  // namespace
}  // namespace tao
