#include "tao/base/logging.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tao/base/clock.h"

namespace tao {
namespace {

// Records what the sink sees; restores the default sink and severity.
class LoggingTest : public ::testing::Test {
 protected:
  struct Captured {
    LogSeverity severity;
    std::string file;
    int line;
    absl::Time time;
    std::string message;
  };

  void SetUp() override {
    SetLogSink([this](const LogRecord& r) {
      absl::MutexLock lock(&mu_);
      records_.push_back({r.severity, std::string(r.file), r.line, r.time,
                          std::string(r.message)});
    });
  }
  void TearDown() override {
    SetLogSink(nullptr);
    SetMinLogSeverity(LogSeverity::kInfo);
  }

  std::vector<Captured> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }

  absl::Mutex mu_;
  std::vector<Captured> records_ ABSL_GUARDED_BY(mu_);
};

TEST_F(LoggingTest, SinkReceivesRecord) {
  const absl::Time before = absl::Now();
  TAO_LOG(INFO) << "listening on " << 42;
  const int line = __LINE__ - 1;
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].severity, LogSeverity::kInfo);
  EXPECT_EQ(got[0].message, "listening on 42");
  EXPECT_EQ(got[0].line, line);
  EXPECT_TRUE(absl::EndsWith(got[0].file, "logging_test.cc")) << got[0].file;
  EXPECT_GE(got[0].time, before);
  EXPECT_LE(got[0].time, absl::Now());
}

TEST_F(LoggingTest, EverySeverityHasItsName) {
  SetMinLogSeverity(LogSeverity::kDebug);
  TAO_LOG(DEBUG) << "d";
  TAO_LOG(INFO) << "i";
  TAO_LOG(WARNING) << "w";
  TAO_LOG(ERROR) << "e";
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].severity, LogSeverity::kDebug);
  EXPECT_EQ(got[1].severity, LogSeverity::kInfo);
  EXPECT_EQ(got[2].severity, LogSeverity::kWarning);
  EXPECT_EQ(got[3].severity, LogSeverity::kError);
  EXPECT_EQ(LogSeverityName(LogSeverity::kDebug), "DEBUG");
  EXPECT_EQ(LogSeverityName(LogSeverity::kInfo), "INFO");
  EXPECT_EQ(LogSeverityName(LogSeverity::kWarning), "WARNING");
  EXPECT_EQ(LogSeverityName(LogSeverity::kError), "ERROR");
  EXPECT_EQ(LogSeverityName(LogSeverity::kFatal), "FATAL");
}

TEST_F(LoggingTest, DefaultMinSeverityIsInfo) {
  EXPECT_EQ(MinLogSeverity(), LogSeverity::kInfo);
  TAO_LOG(DEBUG) << "dropped";
  EXPECT_TRUE(records().empty());
}

TEST_F(LoggingTest, FilteredStatementIsNotEvaluated) {
  SetMinLogSeverity(LogSeverity::kWarning);
  EXPECT_EQ(MinLogSeverity(), LogSeverity::kWarning);
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  TAO_LOG(INFO) << "info " << count();
  TAO_LOG(DEBUG) << "debug " << count();
  EXPECT_EQ(evaluated, 0);
  EXPECT_TRUE(records().empty());
  TAO_LOG(WARNING) << "warning " << count();
  EXPECT_EQ(evaluated, 1);
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(records()[0].message, "warning 1");
}

TEST_F(LoggingTest, WorksAsUnbracedIfBody) {
  bool flag = false;
  if (flag)
    TAO_LOG(INFO) << "then";
  else
    TAO_LOG(INFO) << "else";
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(records()[0].message, "else");
}

const char* ClobberErrno() {
  errno = ENOENT;
  return "x";
}

TEST_F(LoggingTest, PlogAppendsStrerrorOfSavedErrno) {
  errno = EBADF;
  // errno is saved at macro entry, before the stream clobbers it.
  TAO_PLOG(ERROR) << "close " << ClobberErrno();
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].severity, LogSeverity::kError);
  EXPECT_EQ(got[0].message, "close x: Bad file descriptor [9]");
}

TEST_F(LoggingTest, ConcurrentLoggingReachesSinkIntact) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        TAO_LOG(INFO) << "thread " << t << " message " << i;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const Captured& r : got) {
    int t = -1, i = -1;
    ASSERT_EQ(sscanf(r.message.c_str(), "thread %d message %d", &t, &i), 2)
        << r.message;
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    EXPECT_EQ(i, next[t]++) << "per-thread order is kept";
  }
}

TEST_F(LoggingTest, ReplacedSinkIsNeverCalledAgain) {
  struct Probe {
    std::atomic<int> seen{0};
    std::atomic<bool> retired{false};
    std::atomic<bool> called_after_retired{false};
  };
  std::vector<std::unique_ptr<Probe>> probes;
  std::atomic<bool> stop{false};
  std::thread logger([&stop] {
    while (!stop.load()) TAO_LOG(INFO) << "spam";
  });
  for (int i = 0; i < 20; ++i) {
    probes.push_back(std::make_unique<Probe>());
    Probe* probe = probes.back().get();
    SetLogSink([probe](const LogRecord&) {
      if (probe->retired.load()) probe->called_after_retired.store(true);
      probe->seen.fetch_add(1);
    });
    if (i > 0) probes[i - 1]->retired.store(true);
    // Wait (no sleep) until the logger thread has used the new sink.
    while (probe->seen.load() == 0) std::this_thread::yield();
  }
  SetLogSink([](const LogRecord&) {});  // keep stderr quiet from here on
  probes.back()->retired.store(true);
  stop.store(true);
  logger.join();
  for (const auto& probe : probes) {
    EXPECT_GT(probe->seen.load(), 0);
    EXPECT_FALSE(probe->called_after_retired.load());
  }
}

// --- Rate limits -----------------------------------------------------------

constexpr int64_t kSecond = 1'000'000'000;

TEST(LogRateLimiterTest, AllowsTheBurstPerWindowAndCountsTheRest) {
  logging_internal::LogRateLimiter limiter(absl::Seconds(1), 3);
  const int64_t t0 = 100 * kSecond;
  EXPECT_TRUE(limiter.AllowAt(t0));
  EXPECT_TRUE(limiter.AllowAt(t0 + 1));
  EXPECT_TRUE(limiter.AllowAt(t0 + kSecond / 2));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.AllowAt(t0 + kSecond / 2));
  EXPECT_FALSE(limiter.AllowAt(t0 + kSecond - 1));  // still the same window
  EXPECT_EQ(limiter.TakeSuppressed(), 6u);
  EXPECT_EQ(limiter.TakeSuppressed(), 0u) << "taking resets the count";
  // The next window has a fresh budget.
  EXPECT_TRUE(limiter.AllowAt(t0 + kSecond));
  EXPECT_TRUE(limiter.AllowAt(t0 + kSecond));
  EXPECT_TRUE(limiter.AllowAt(t0 + kSecond));
  EXPECT_FALSE(limiter.AllowAt(t0 + kSecond));
  // Skipping windows is fine too.
  EXPECT_TRUE(limiter.AllowAt(t0 + 50 * kSecond));
  EXPECT_EQ(limiter.TakeSuppressed(), 1u);
}

TEST(LogRateLimiterTest, AnEarlierTimeCountsAgainstTheNewerWindow) {
  logging_internal::LogRateLimiter limiter(absl::Seconds(1), 2);
  EXPECT_TRUE(limiter.AllowAt(10 * kSecond));
  // A thread that read the clock before the window turned: no second budget
  // for the old window, no reset of the new one.
  EXPECT_TRUE(limiter.AllowAt(9 * kSecond));
  EXPECT_FALSE(limiter.AllowAt(9 * kSecond));
  EXPECT_FALSE(limiter.AllowAt(10 * kSecond));
  EXPECT_TRUE(limiter.AllowAt(11 * kSecond));
}

TEST(LogRateLimiterTest, ClampsItsArguments) {
  logging_internal::LogRateLimiter none(absl::Seconds(1), 0);
  EXPECT_TRUE(none.AllowAt(kSecond)) << "a burst below 1 means 1";
  EXPECT_FALSE(none.AllowAt(kSecond));
  logging_internal::LogRateLimiter tiny(absl::ZeroDuration(), 1);
  EXPECT_TRUE(tiny.AllowAt(kSecond));
  EXPECT_FALSE(tiny.AllowAt(kSecond + 999'999)) << "windows of at least 1 ms";
  EXPECT_TRUE(tiny.AllowAt(kSecond + 1'000'000));
  logging_internal::LogRateLimiter huge(absl::Seconds(1), 1 << 30);
  for (int i = 0; i < logging_internal::LogRateLimiter::kMaxBurst; ++i) {
    ASSERT_TRUE(huge.AllowAt(kSecond)) << i;
  }
  EXPECT_FALSE(huge.AllowAt(kSecond));
}

// LoggingTest with the log clock on a FakeClock that starts in a window no
// earlier test used (the call sites' limiters are statics, so a repeated
// test must not find its budget spent).
class RateLimitedLoggingTest : public LoggingTest {
 protected:
  void SetUp() override {
    LoggingTest::SetUp();
    static int runs = 0;
    clock_.Advance(absl::Hours(24) * ++runs);
    SetLogClock(&clock_);
  }
  void TearDown() override {
    SetLogClock(nullptr);
    LoggingTest::TearDown();
  }

  FakeClock clock_;
};

TEST_F(RateLimitedLoggingTest, SuppressedRecordsAreNotFormattedAndAreCounted) {
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  auto flood = [&](int n) {
    for (int i = 0; i < n; ++i) {
      TAO_LOG_EVERY(WARNING, absl::Seconds(1), 3) << "flood " << count();
    }
  };
  flood(100);
  EXPECT_EQ(evaluated, 3) << "the 97 suppressed records were not formatted";
  std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].message, "flood 1");
  EXPECT_EQ(got[2].message, "flood 3");
  EXPECT_EQ(got[2].severity, LogSeverity::kWarning);

  clock_.Advance(absl::Seconds(1));
  flood(1);
  got = records();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].message, "flood 4 [97 similar messages suppressed]");
  flood(1);
  got = records();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[4].message, "flood 5") << "nothing suppressed in between";
}

TEST_F(RateLimitedLoggingTest, EachCallSiteHasItsOwnBudget) {
  auto rounds = [](int n) {
    for (int i = 0; i < n; ++i) {
      TAO_LOG_EVERY(INFO, absl::Seconds(1), 2) << "a";
      TAO_LOG_EVERY(INFO, absl::Seconds(1), 2) << "b";
    }
  };
  rounds(10);
  clock_.Advance(absl::Seconds(1));
  rounds(1);
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].message, "a");
  EXPECT_EQ(got[1].message, "b");
  EXPECT_EQ(got[2].message, "a");
  EXPECT_EQ(got[3].message, "b");
  EXPECT_EQ(got[4].message, "a [8 similar messages suppressed]");
  EXPECT_EQ(got[5].message, "b [8 similar messages suppressed]");
}

TEST_F(RateLimitedLoggingTest, DefaultBudget) {
  auto flood = [](int n) {
    for (int i = 0; i < n; ++i) TAO_LOG_RATE_LIMITED(ERROR) << "e";
  };
  flood(1000);
  EXPECT_EQ(records().size(), static_cast<size_t>(kLogRateBurst));
  clock_.Advance(kLogRateInterval - absl::Nanoseconds(1));
  flood(1);
  EXPECT_EQ(records().size(), static_cast<size_t>(kLogRateBurst))
      << "one window is kLogRateInterval long";
  clock_.Advance(absl::Nanoseconds(1));
  flood(1000);
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), static_cast<size_t>(2 * kLogRateBurst));
  EXPECT_EQ(got[kLogRateBurst].message,
            absl::StrCat("e [", 1000 - kLogRateBurst + 1,
                         " similar messages suppressed]"));
  EXPECT_EQ(got.back().message, "e");
}

TEST_F(RateLimitedLoggingTest, FilteredRecordsSpendNoBudget) {
  SetMinLogSeverity(LogSeverity::kWarning);
  int evaluated = 0;
  for (int i = 0; i < 2; ++i) {
    // One site, whose severity is filtered in the first round only.
    TAO_LOG_EVERY(INFO, absl::Seconds(1), 1) << "info " << ++evaluated;
    SetMinLogSeverity(LogSeverity::kInfo);
  }
  EXPECT_EQ(evaluated, 1);
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message, "info 1") << "no suppressed count either";
}

TEST_F(RateLimitedLoggingTest, WorksAsUnbracedIfBody) {
  for (int i = 0; i < 4; ++i) {
    if (i % 2 == 0)
      TAO_LOG_EVERY(INFO, absl::Seconds(1), 5) << "then " << i;
    else
      TAO_LOG_EVERY(INFO, absl::Seconds(1), 5) << "else " << i;
  }
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].message, "then 0");
  EXPECT_EQ(got[1].message, "else 1");
  EXPECT_EQ(got[3].message, "else 3");
}

TEST_F(RateLimitedLoggingTest, ConcurrentCallersShareOneExactBudget) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  constexpr int kBurst = 7;
  auto site = [] { TAO_LOG_EVERY(WARNING, absl::Seconds(1), kBurst) << "x"; };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&site] {
      for (int i = 0; i < kPerThread; ++i) site();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(records().size(), static_cast<size_t>(kBurst));
  clock_.Advance(absl::Seconds(1));
  site();
  const std::vector<Captured> got = records();
  ASSERT_EQ(got.size(), static_cast<size_t>(kBurst + 1));
  EXPECT_EQ(got.back().message,
            absl::StrCat("x [", kThreads * kPerThread - kBurst,
                         " similar messages suppressed]"));
}

TEST(LoggingDeathTest, CheckFailureAbortsWithMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int x = 1;
  TAO_CHECK(x == 1) << "never shown";
  EXPECT_DEATH(TAO_CHECK(x == 2) << "extra " << x,
               "Check failed: x == 2 extra 1");
}

TEST(LoggingDeathTest, FatalAbortsAndReachesStderrEvenWithCustomSink) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SetLogSink([](const LogRecord&) {});
        TAO_LOG(FATAL) << "goodbye";
      },
      "F[0-9]+ [0-9:.]+ +[0-9]+ logging_test.cc:[0-9]+\\] goodbye");
}

#ifndef NDEBUG
TEST(LoggingDeathTest, DcheckIsOnInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(TAO_DCHECK(1 + 1 == 3), "Check failed: 1 \\+ 1 == 3");
}
#else
TEST(LoggingNdebugTest, DcheckDoesNotEvaluate) {
  int evaluated = 0;
  TAO_DCHECK(++evaluated == 100) << ++evaluated;
  EXPECT_EQ(evaluated, 0);
}
#endif

int MustBePositive(int v) {
  if (v > 0) return v;
  TAO_LOG(FATAL) << "not positive";  // noreturn: no missing-return warning
}

TEST(LoggingDeathTest, FatalIsNoreturn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EQ(MustBePositive(3), 3);
  EXPECT_DEATH(MustBePositive(-1), "not positive");
}

}  // namespace
}  // namespace tao
