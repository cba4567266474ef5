#include "tao/base/clock.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(ClockTest, RealClockNeverGoesBackwards) {
  const Clock* clock = Clock::Real();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock, Clock::Real());
  MonoTime previous = clock->Now();
  for (int i = 0; i < 1000; ++i) {
    const MonoTime now = clock->Now();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

TEST(FakeClockTest, StartsAtFixedNonZeroEpoch) {
  FakeClock a;
  FakeClock b;
  EXPECT_EQ(a.Now(), b.Now());
  EXPECT_GT(a.Now(), MonoTime());
  EXPECT_EQ(ToDuration(a.Now().time_since_epoch()), FakeClock::kEpoch);
}

TEST(FakeClockTest, AdvanceMovesExactly) {
  FakeClock clock;
  const MonoTime start = clock.Now();
  clock.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(clock.Now() - start, std::chrono::milliseconds(1500));
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(ToDuration(clock.Now() - start),
            absl::Milliseconds(1500) + absl::Nanoseconds(1));
  clock.Advance(absl::ZeroDuration());
  EXPECT_EQ(ToDuration(clock.Now() - start),
            absl::Milliseconds(1500) + absl::Nanoseconds(1));
}

TEST(FakeClockTest, AdvanceToSetsTime) {
  FakeClock clock;
  const MonoTime target = AddDuration(clock.Now(), absl::Seconds(42));
  clock.AdvanceTo(target);
  EXPECT_EQ(clock.Now(), target);
  clock.AdvanceTo(target);  // Same time: allowed, no-op.
  EXPECT_EQ(clock.Now(), target);
}

TEST(FakeClockTest, ConcurrentReadersSeeMonotonicTime) {
  FakeClock clock;
  constexpr int kSteps = 10000;
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&clock] {
      MonoTime previous = clock.Now();
      for (int i = 0; i < kSteps; ++i) {
        const MonoTime now = clock.Now();
        EXPECT_GE(now, previous);
        previous = now;
      }
    });
  }
  const MonoTime start = clock.Now();
  for (int i = 0; i < kSteps; ++i) clock.Advance(absl::Microseconds(1));
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(ToDuration(clock.Now() - start), absl::Microseconds(kSteps));
}

TEST(ClockHelpersTest, AddDuration) {
  const MonoTime t = MonoTime() + std::chrono::seconds(10);
  EXPECT_EQ(AddDuration(t, absl::Milliseconds(250)),
            t + std::chrono::milliseconds(250));
  EXPECT_EQ(AddDuration(t, -absl::Seconds(3)), t - std::chrono::seconds(3));
  EXPECT_EQ(AddDuration(t, absl::ZeroDuration()), t);
}

TEST(ClockHelpersTest, AddDurationSaturates) {
  const MonoTime t = MonoTime() + std::chrono::seconds(10);
  EXPECT_EQ(AddDuration(t, absl::InfiniteDuration()), MonoTime::max());
  EXPECT_EQ(AddDuration(t, -absl::InfiniteDuration()), MonoTime::min());
  EXPECT_EQ(
      AddDuration(MonoTime::max() - std::chrono::seconds(1), absl::Hours(1)),
      MonoTime::max());
}

TEST(ClockHelpersTest, OperatorPlusMatchesAddDuration) {
  const MonoTime t = MonoTime() + std::chrono::seconds(10);
  EXPECT_EQ(t + absl::Seconds(2), AddDuration(t, absl::Seconds(2)));
}

TEST(ClockHelpersTest, ToDuration) {
  EXPECT_EQ(ToDuration(std::chrono::milliseconds(7)), absl::Milliseconds(7));
  EXPECT_EQ(ToDuration(std::chrono::nanoseconds(-5)), absl::Nanoseconds(-5));
  const MonoTime a = MonoTime() + std::chrono::seconds(3);
  const MonoTime b = a + std::chrono::microseconds(20);
  EXPECT_EQ(ToDuration(b - a), absl::Microseconds(20));
}

}  // namespace
}  // namespace tao
