#include "tao/base/open_file_limit.h"

#include <sys/resource.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

// Restores the process's limit when the test ends.
class OpenFileLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  void SetSoft(rlim_t soft) {
    rlimit limit = saved_;
    limit.rlim_cur = soft;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }

  rlimit saved_{};
};

TEST_F(OpenFileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  if (saved_.rlim_max < 64) GTEST_SKIP() << "hard limit " << saved_.rlim_max;
  SetSoft(32);
  absl::StatusOr<OpenFileLimit> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->soft, saved_.rlim_max);
  EXPECT_EQ(raised->hard, saved_.rlim_max);
  absl::StatusOr<OpenFileLimit> now = GetOpenFileLimit();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->soft, saved_.rlim_max);
}

TEST_F(OpenFileLimitTest, RaisesToAtLeastWhatIsAskedAndNeverLowers) {
  if (saved_.rlim_max < 64) GTEST_SKIP() << "hard limit " << saved_.rlim_max;
  SetSoft(32);
  absl::StatusOr<OpenFileLimit> raised = RaiseOpenFileLimit(48);
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->soft, 48u);
  raised = RaiseOpenFileLimit(40);
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->soft, 48u) << "lowered";
}

TEST_F(OpenFileLimitTest, MoreThanTheHardLimitIsRefusedAndChangesNothing) {
  if (saved_.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit";
  SetSoft(saved_.rlim_max > 64 ? 64 : saved_.rlim_max);
  const rlim_t before = saved_.rlim_max > 64 ? 64 : saved_.rlim_max;
  absl::StatusOr<OpenFileLimit> raised =
      RaiseOpenFileLimit(uint64_t{saved_.rlim_max} + 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(raised.status())) << raised.status();
  absl::StatusOr<OpenFileLimit> now = GetOpenFileLimit();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->soft, before);
}

}  // namespace
}  // namespace tao
