#include "tao/timer/timer_queue.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/base/clock.h"

namespace tao {
namespace {

constexpr absl::Duration kOneShot = absl::ZeroDuration();

class TimerQueueTest : public ::testing::Test {
 protected:
  MonoTime At(absl::Duration from_start) const {
    return AddDuration(start_, from_start);
  }
  // Advances the clock to the next deadline and runs the due timers.
  size_t AdvanceAndRun() {
    std::optional<MonoTime> next = timers_.NextDeadline();
    if (next.has_value() && *next > clock_.Now()) clock_.AdvanceTo(*next);
    return timers_.RunExpired();
  }

  FakeClock clock_;
  const MonoTime start_ = clock_.Now();
  TimerQueue timers_{&clock_};
};

TEST_F(TimerQueueTest, EmptyQueue) {
  EXPECT_EQ(timers_.size(), 0u);
  EXPECT_TRUE(timers_.empty());
  EXPECT_FALSE(timers_.NextDeadline().has_value());
  EXPECT_EQ(timers_.RunExpired(), 0u);
  EXPECT_EQ(timers_.missed_ticks(), 0u);
}

TEST_F(TimerQueueTest, DoesNotRunBeforeDeadline) {
  int runs = 0;
  TimerId id =
      timers_.Add(At(absl::Milliseconds(10)), kOneShot, [&runs] { ++runs; });
  EXPECT_TRUE(id.valid());
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Milliseconds(10)));
  clock_.Advance(absl::Milliseconds(10) - absl::Nanoseconds(1));
  EXPECT_EQ(timers_.RunExpired(), 0u);
  EXPECT_EQ(runs, 0);
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(timers_.size(), 0u);
  EXPECT_FALSE(timers_.NextDeadline().has_value());
  // A one-shot timer runs once.
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(timers_.RunExpired(), 0u);
  EXPECT_EQ(runs, 1);
}

TEST_F(TimerQueueTest, PastDeadlineRunsAtNextRunExpired) {
  int runs = 0;
  timers_.Add(AddDuration(clock_.Now(), -absl::Seconds(1)), kOneShot,
              [&runs] { ++runs; });
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(runs, 1);
}

TEST_F(TimerQueueTest, EmptyCallbackIsRejected) {
  TimerId id = timers_.Add(At(absl::Seconds(1)), kOneShot, nullptr);
  EXPECT_FALSE(id.valid());
  EXPECT_EQ(timers_.size(), 0u);
}

TEST_F(TimerQueueTest, RunsThousandRandomDeadlinesInOrder) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> millis(0, 5000);
  std::vector<std::pair<int64_t, int>> expected;  // (deadline ms, add order)
  std::vector<std::pair<int64_t, int>> ran;
  for (int i = 0; i < 1000; ++i) {
    const int64_t ms = millis(rng);
    expected.emplace_back(ms, i);
    timers_.Add(At(absl::Milliseconds(ms)), kOneShot, [this, &ran, ms, i] {
      EXPECT_GE(clock_.Now(), At(absl::Milliseconds(ms)));
      ran.emplace_back(ms, i);
    });
  }
  EXPECT_EQ(timers_.size(), 1000u);
  // Deadline order, FIFO among the (many) equal deadlines.
  std::sort(expected.begin(), expected.end());
  size_t steps = 0;
  while (!timers_.empty()) {
    ASSERT_GT(AdvanceAndRun(), 0u);
    ++steps;
  }
  EXPECT_EQ(ran, expected);
  const size_t distinct =
      std::unique(expected.begin(), expected.end(),
                  [](auto a, auto b) { return a.first == b.first; }) -
      expected.begin();
  EXPECT_EQ(steps, distinct);  // One RunExpired() per distinct deadline.
}

TEST_F(TimerQueueTest, AllDueTimersRunInOneCallInDeadlineOrder) {
  std::vector<int> ran;
  for (int i : {5, 3, 9, 1, 7}) {
    timers_.Add(At(absl::Milliseconds(i)), kOneShot,
                [&ran, i] { ran.push_back(i); });
  }
  clock_.Advance(absl::Milliseconds(7));
  EXPECT_EQ(timers_.RunExpired(), 4u);
  EXPECT_EQ(ran, (std::vector<int>{1, 3, 5, 7}));
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Milliseconds(9)));
}

TEST_F(TimerQueueTest, EqualDeadlinesRunFifo) {
  std::vector<int> ran;
  for (int i = 0; i < 100; ++i) {
    timers_.Add(At(absl::Seconds(1)), kOneShot,
                [&ran, i] { ran.push_back(i); });
  }
  EXPECT_EQ(AdvanceAndRun(), 100u);
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST_F(TimerQueueTest, CancelBeforeFire) {
  int runs = 0;
  TimerId a = timers_.Add(At(absl::Seconds(1)), kOneShot, [&runs] { ++runs; });
  TimerId b = timers_.Add(At(absl::Seconds(2)), kOneShot, [&runs] { ++runs; });
  EXPECT_TRUE(timers_.Cancel(a));
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Seconds(2)));
  EXPECT_FALSE(timers_.Cancel(a));  // Twice: no-op.
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(timers_.Cancel(b));  // Fired.
}

TEST_F(TimerQueueTest, CancelDestroysCallback) {
  auto token = std::make_shared<int>(0);
  TimerId id =
      timers_.Add(At(absl::Seconds(1)), kOneShot, [token] { ++*token; });
  EXPECT_EQ(token.use_count(), 2);
  EXPECT_TRUE(timers_.Cancel(id));
  EXPECT_EQ(token.use_count(), 1);
}

TEST_F(TimerQueueTest, CancelOfFiredUnknownOrStaleIdIsNoOp) {
  EXPECT_FALSE(timers_.Cancel(TimerId{}));
  EXPECT_FALSE(timers_.Cancel(TimerId{12345}));
  EXPECT_FALSE(timers_.Cancel(TimerId{~uint64_t{0}}));

  int first_runs = 0;
  TimerId first = timers_.Add(At(absl::Seconds(1)), kOneShot,
                              [&first_runs] { ++first_runs; });
  EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_EQ(first_runs, 1);

  // The freed slot is reused; the old id must not cancel the new timer.
  int second_runs = 0;
  TimerId second = timers_.Add(At(absl::Seconds(2)), kOneShot,
                               [&second_runs] { ++second_runs; });
  EXPECT_NE(first, second);
  EXPECT_EQ(first.value & 0xffffffff, second.value & 0xffffffff)
      << "expected slot reuse, so that the generation is what is tested";
  EXPECT_FALSE(timers_.Cancel(first));
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_EQ(second_runs, 1);

  // Same after a cancel instead of a fire.
  TimerId third = timers_.Add(At(absl::Seconds(3)), kOneShot, [] {});
  EXPECT_TRUE(timers_.Cancel(third));
  TimerId fourth = timers_.Add(At(absl::Seconds(4)), kOneShot, [] {});
  EXPECT_FALSE(timers_.Cancel(third));
  EXPECT_TRUE(timers_.Cancel(fourth));
}

TEST_F(TimerQueueTest, CallbackCancelsLaterTimerInSameBatch) {
  std::vector<int> ran;
  TimerId victim;
  timers_.Add(At(absl::Seconds(1)), kOneShot, [&] {
    ran.push_back(1);
    EXPECT_TRUE(timers_.Cancel(victim));
  });
  victim =
      timers_.Add(At(absl::Seconds(2)), kOneShot, [&ran] { ran.push_back(2); });
  timers_.Add(At(absl::Seconds(3)), kOneShot, [&ran] { ran.push_back(3); });
  clock_.Advance(absl::Seconds(3));  // All three in one batch.
  EXPECT_EQ(timers_.RunExpired(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
  EXPECT_EQ(timers_.size(), 0u);
}

TEST_F(TimerQueueTest, CallbackCancelsLaterPeriodicTimerInSameBatch) {
  int victim_runs = 0;
  TimerId victim;
  timers_.Add(At(absl::Seconds(1)), kOneShot,
              [&] { EXPECT_TRUE(timers_.Cancel(victim)); });
  victim = timers_.Add(At(absl::Seconds(1)), absl::Seconds(1),
                       [&victim_runs] { ++victim_runs; });
  EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_EQ(victim_runs, 0);
  EXPECT_TRUE(timers_.empty());
  EXPECT_FALSE(timers_.NextDeadline().has_value());
}

TEST_F(TimerQueueTest, OneShotCancellingItselfIsNoOp) {
  TimerId id;
  bool cancelled = true;
  id = timers_.Add(At(absl::Seconds(1)), kOneShot,
                   [&] { cancelled = timers_.Cancel(id); });
  EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_FALSE(cancelled);
  EXPECT_TRUE(timers_.empty());
}

TEST_F(TimerQueueTest, PeriodicCancelsItself) {
  int runs = 0;
  TimerId id;
  id = timers_.Add(At(absl::Seconds(1)), absl::Seconds(1), [&] {
    if (++runs == 3) {
      EXPECT_TRUE(timers_.Cancel(id));
    }
  });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_EQ(runs, 3);
  EXPECT_TRUE(timers_.empty());
  EXPECT_FALSE(timers_.NextDeadline().has_value());
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(timers_.RunExpired(), 0u);
  EXPECT_EQ(runs, 3);
  EXPECT_FALSE(timers_.Cancel(id));
}

TEST_F(TimerQueueTest, PeriodicCancelledItselfThenSlotReusedInCallback) {
  int old_runs = 0;
  int new_runs = 0;
  TimerId id;
  TimerId replacement;
  id = timers_.Add(At(absl::Seconds(1)), absl::Seconds(1), [&] {
    ++old_runs;
    EXPECT_TRUE(timers_.Cancel(id));
    // Likely reuses the slot just freed: must not resurrect the old timer.
    replacement = timers_.Add(At(absl::Seconds(5)), kOneShot,
                              [&new_runs] { ++new_runs; });
  });
  EXPECT_EQ(AdvanceAndRun(), 1u);
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Seconds(5)));
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(old_runs, 1);
  EXPECT_EQ(new_runs, 1);
}

// A callback adding a timer that is already due: it runs in the next
// RunExpired() call, never in the current one (no infinite loop).
TEST_F(TimerQueueTest, TimerAddedDueNowRunsInNextRunExpired) {
  int chain = 0;
  std::function<void()> again = [&] {
    ++chain;
    timers_.Add(clock_.Now(), kOneShot, [&again] { again(); });
  };
  timers_.Add(At(absl::ZeroDuration()), kOneShot, [&again] { again(); });
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(chain, 1);
  EXPECT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_.NextDeadline(), clock_.Now());
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(chain, 2);
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(chain, 3);
}

TEST_F(TimerQueueTest, CallbackAddsManyTimersWhileRunning) {
  // Adding from a callback may reallocate the slot storage: the running
  // periodic callback must survive that.
  int ticks = 0;
  int children = 0;
  timers_.Add(At(absl::Seconds(1)), absl::Seconds(1), [&] {
    ++ticks;
    for (int i = 0; i < 1000; ++i) {
      timers_.Add(AddDuration(clock_.Now(), absl::Milliseconds(500)), kOneShot,
                  [&children] { ++children; });
    }
  });
  EXPECT_EQ(AdvanceAndRun(), 1u);  // t = 1s
  EXPECT_EQ(timers_.size(), 1001u);
  EXPECT_EQ(AdvanceAndRun(), 1000u);  // t = 1.5s
  EXPECT_EQ(AdvanceAndRun(), 1u);     // t = 2s
  EXPECT_EQ(ticks, 2);
  EXPECT_EQ(children, 1000);
}

TEST_F(TimerQueueTest, PeriodicHasExactDeadlinesOverTwoHundredTicks) {
  const absl::Duration interval = absl::Milliseconds(37);
  const MonoTime first = At(absl::Milliseconds(5));
  std::vector<MonoTime> fired;
  timers_.Add(first, interval, [&] { fired.push_back(clock_.Now()); });
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(timers_.NextDeadline(), AddDuration(first, interval * i));
    EXPECT_EQ(AdvanceAndRun(), 1u);
  }
  ASSERT_EQ(fired.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(fired[i], AddDuration(first, interval * i)) << i;
  }
  EXPECT_EQ(timers_.missed_ticks(), 0u);
  EXPECT_EQ(timers_.size(), 1u);
}

TEST_F(TimerQueueTest, PeriodicDoesNotDriftWhenRunLate) {
  // Each run happens 3ms late; deadlines stay on the 10ms grid.
  std::vector<MonoTime> deadlines;
  timers_.Add(At(absl::Milliseconds(10)), absl::Milliseconds(10), [] {});
  for (int i = 0; i < 50; ++i) {
    const MonoTime next = *timers_.NextDeadline();
    deadlines.push_back(next);
    clock_.AdvanceTo(AddDuration(next, absl::Milliseconds(3)));
    EXPECT_EQ(timers_.RunExpired(), 1u);
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(deadlines[i], At(absl::Milliseconds(10) * (i + 1)));
  }
  EXPECT_EQ(timers_.missed_ticks(), 0u);
}

TEST_F(TimerQueueTest, LateLoopSkipsMissedTicksAndCountsThem) {
  int runs = 0;
  timers_.Add(At(absl::Seconds(1)), absl::Seconds(1), [&runs] { ++runs; });
  // Due at 1s; the loop only gets to it at 5.5s: late by 4 whole intervals
  // (ticks at 2, 3, 4 and 5s are skipped). It runs once, next at 6s.
  clock_.AdvanceTo(At(absl::Milliseconds(5500)));
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(timers_.missed_ticks(), 4u);
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Seconds(6)));
  EXPECT_EQ(timers_.RunExpired(), 0u);  // No burst.

  // Exactly on a later grid point: the tick due now counts as missed too.
  clock_.AdvanceTo(At(absl::Seconds(8)));
  EXPECT_EQ(timers_.RunExpired(), 1u);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(timers_.missed_ticks(), 6u);  // 7s and 8s.
  EXPECT_EQ(timers_.NextDeadline(), At(absl::Seconds(9)));
}

TEST_F(TimerQueueTest, HundredThousandTimersAllCancelled) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> millis(1, 1000000);
  std::vector<TimerId> ids;
  ids.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    // A heap-allocating capture, so a leak would show under asan.
    auto payload = std::make_unique<int>(i);
    ids.push_back(timers_.Add(At(absl::Milliseconds(millis(rng))), kOneShot,
                              [p = std::move(payload)] { ADD_FAILURE(); }));
  }
  EXPECT_EQ(timers_.size(), 100000u);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(timers_.Cancel(ids[i]));
    if (i % 10007 == 0 && !timers_.empty()) {
      // The heap stays consistent through random removals.
      ASSERT_TRUE(timers_.NextDeadline().has_value());
    }
  }
  EXPECT_EQ(timers_.size(), 0u);
  EXPECT_FALSE(timers_.NextDeadline().has_value());
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(timers_.RunExpired(), 0u);
}

TEST_F(TimerQueueTest, RandomCancelsKeepOrder) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> millis(0, 100000);
  std::vector<TimerId> ids;
  std::vector<std::pair<int, int>> kept;  // (deadline ms, add order)
  std::vector<std::pair<int, int>> ran;
  for (int i = 0; i < 5000; ++i) {
    const int ms = millis(rng);
    ids.push_back(timers_.Add(At(absl::Milliseconds(ms)), kOneShot,
                              [&ran, ms, i] { ran.emplace_back(ms, i); }));
    kept.emplace_back(ms, i);
  }
  std::vector<std::pair<int, int>> expected;
  for (int i = 0; i < 5000; ++i) {
    if (i % 3 == 0) {
      EXPECT_TRUE(timers_.Cancel(ids[i]));
    } else {
      expected.push_back(kept[i]);
    }
  }
  std::sort(expected.begin(), expected.end());
  clock_.Advance(absl::Milliseconds(100000));
  EXPECT_EQ(timers_.RunExpired(), expected.size());
  EXPECT_EQ(ran, expected);
}

TEST_F(TimerQueueTest, DestructorReleasesPendingCallbacks) {
  auto token = std::make_shared<int>(0);
  {
    TimerQueue timers(&clock_);
    timers.Add(At(absl::Seconds(1)), kOneShot, [token] {});
    timers.Add(At(absl::Seconds(1)), absl::Seconds(1), [token] {});
    EXPECT_EQ(token.use_count(), 3);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(TimerIdTest, DefaultIsInvalid) {
  TimerId id;
  EXPECT_FALSE(id.valid());
  EXPECT_EQ(id, TimerId{});
  EXPECT_TRUE(TimerId{1}.valid());
}

}  // namespace
}  // namespace tao
