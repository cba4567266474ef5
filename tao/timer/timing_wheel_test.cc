#include "tao/timer/timing_wheel.h"

#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/base/clock.h"

namespace tao {
namespace {

constexpr absl::Duration kTick = absl::Milliseconds(10);

class TimingWheelTest : public ::testing::Test {
 protected:
  // Advances the fake clock in tick steps, running the wheel at each.
  size_t AdvanceBy(absl::Duration d) {
    size_t fired = 0;
    for (absl::Duration done; done < d; done += kTick) {
      clock_.Advance(kTick);
      fired += wheel_.Advance();
    }
    return fired;
  }

  FakeClock clock_;
  TimingWheel wheel_{&clock_, kTick, /*slots=*/8};
};

TEST_F(TimingWheelTest, FiresAtDeadlineNeverEarlyAtMostOneTickLate) {
  for (absl::Duration delay :
       {absl::Milliseconds(1), absl::Milliseconds(10), absl::Milliseconds(35),
        absl::Milliseconds(79), absl::Milliseconds(80), absl::Milliseconds(81),
        absl::Milliseconds(250)}) {
    const MonoTime start = clock_.Now();
    MonoTime fired_at{};
    wheel_.Add(delay, [&] { fired_at = clock_.Now(); });
    AdvanceBy(delay + 2 * kTick);
    ASSERT_NE(fired_at, MonoTime{}) << delay;
    const absl::Duration after = ToDuration(fired_at - start);
    EXPECT_GE(after, delay) << delay;
    EXPECT_LE(after, delay + kTick) << delay;
  }
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimingWheelTest, EntriesBeyondOneRevolutionWaitTheirRounds) {
  // 8 slots x 10 ms: 1 s is 12.5 revolutions.
  int fired = 0;
  wheel_.Add(absl::Seconds(1), [&] { ++fired; });
  EXPECT_EQ(AdvanceBy(absl::Milliseconds(990)), 0u);
  EXPECT_EQ(AdvanceBy(absl::Milliseconds(20)), 1u);
  EXPECT_EQ(fired, 1);
}

TEST_F(TimingWheelTest, RefreshPushesDeadlineBack) {
  int fired = 0;
  WheelTimerId id = wheel_.Add(absl::Milliseconds(50), [&] { ++fired; });
  for (int i = 0; i < 20; ++i) {
    AdvanceBy(absl::Milliseconds(30));
    ASSERT_TRUE(wheel_.Refresh(id, absl::Milliseconds(50)));
  }
  EXPECT_EQ(fired, 0);
  AdvanceBy(absl::Milliseconds(70));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(wheel_.Refresh(id, absl::Milliseconds(50)));  // fired
}

TEST_F(TimingWheelTest, CancelIsNoOpForFiredStaleOrUnknownIds) {
  int fired = 0;
  WheelTimerId a = wheel_.Add(absl::Milliseconds(20), [&] { ++fired; });
  EXPECT_TRUE(wheel_.Cancel(a));
  EXPECT_FALSE(wheel_.Cancel(a));
  // The slot is reused with a new generation: the stale id must not cancel.
  WheelTimerId b = wheel_.Add(absl::Milliseconds(20), [&] { ++fired; });
  EXPECT_FALSE(wheel_.Cancel(a));
  EXPECT_FALSE(wheel_.Cancel(WheelTimerId{}));
  EXPECT_FALSE(wheel_.Cancel(WheelTimerId{12345}));
  AdvanceBy(absl::Milliseconds(40));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(wheel_.Cancel(b));
}

TEST_F(TimingWheelTest, CallbackMayCancelAnotherDueInSameAdvance) {
  // Both are due in the same Advance and each cancels the other: whichever
  // runs first must stop the second from running.
  int runs = 0;
  WheelTimerId a, b;
  a = wheel_.Add(absl::Milliseconds(10), [&] {
    ++runs;
    EXPECT_TRUE(wheel_.Cancel(b));
  });
  b = wheel_.Add(absl::Milliseconds(10), [&] {
    ++runs;
    EXPECT_TRUE(wheel_.Cancel(a));
  });
  clock_.Advance(absl::Milliseconds(10));
  EXPECT_EQ(wheel_.Advance(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimingWheelTest, CallbackMayReAddItself) {
  int fired = 0;
  std::function<void()> again = [&] {
    if (++fired < 5) wheel_.Add(absl::Milliseconds(10), again);
  };
  wheel_.Add(absl::Milliseconds(10), again);
  AdvanceBy(absl::Milliseconds(100));
  EXPECT_EQ(fired, 5);
}

TEST_F(TimingWheelTest, LateAdvanceFiresEverythingDueOnce) {
  int fired = 0;
  for (int i = 1; i <= 100; ++i) {
    wheel_.Add(absl::Milliseconds(7 * i), [&] { ++fired; });
  }
  clock_.Advance(absl::Seconds(2));  // the loop stalled
  EXPECT_EQ(wheel_.Advance(), 100u);
  EXPECT_EQ(fired, 100);
}

TEST_F(TimingWheelTest, ManyEntriesAddedRefreshedAndCancelled) {
  std::vector<WheelTimerId> ids;
  for (int i = 0; i < 100000; ++i) {
    ids.push_back(wheel_.Add(absl::Seconds(1 + i % 7), [] {}));
  }
  EXPECT_EQ(wheel_.size(), 100000u);
  for (WheelTimerId id : ids) ASSERT_TRUE(wheel_.Refresh(id, absl::Seconds(3)));
  for (WheelTimerId id : ids) ASSERT_TRUE(wheel_.Cancel(id));
  EXPECT_EQ(wheel_.size(), 0u);
  EXPECT_EQ(AdvanceBy(absl::Seconds(4)), 0u);
}

}  // namespace
}  // namespace tao
