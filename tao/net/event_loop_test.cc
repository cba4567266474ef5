#include "tao/net/event_loop.h"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/channel.h"
#include "tao/net/event_loop_thread_pool.h"

namespace tao {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

TEST(EventLoopTest, QuitFromTimerEndsRun) {
  EventLoop loop;
  bool fired = false;
  loop.RunAfter(absl::Milliseconds(1), [&] {
    fired = true;
    loop.Quit();
  });
  loop.Run();
  EXPECT_TRUE(fired);
}

TEST(EventLoopTest, RunInLoopRunsInlineOnLoopThread) {
  EventLoop loop;
  bool ran = false;
  loop.RunInLoop([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, QueueInLoopFromOtherThreadsRunsInFifoOrderPerThread) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  absl::Mutex mu;
  std::vector<std::vector<int>> seen(kThreads);
  absl::BlockingCounter done(kThreads * kPerThread);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        loop->QueueInLoop([&, t, i] {
          EXPECT_TRUE(loop->IsInLoopThread());
          {
            absl::MutexLock lock(&mu);
            seen[t].push_back(i);
          }
          done.DecrementCount();
        });
      }
    });
  }
  for (auto& p : producers) p.join();
  done.Wait();
  absl::MutexLock lock(&mu);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(seen[t][i], i);
  }
}

TEST(EventLoopTest, FunctorQueuedFromFunctorRunsWithoutExternalWakeup) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Notification second;
  loop->QueueInLoop([&] { loop->QueueInLoop([&] { second.Notify(); }); });
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(kWait));
}

TEST(EventLoopTest, TimersFireInDeadlineOrder) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Mutex mu;
  std::vector<int> order;
  absl::BlockingCounter done(3);
  for (int i : {3, 1, 2}) {
    loop->RunAfter(absl::Milliseconds(5 * i), [&, i] {
      {
        absl::MutexLock lock(&mu);
        order.push_back(i);
      }
      done.DecrementCount();
    });
  }
  done.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoopTest, CancelFromAnotherThreadPreventsFiring) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  std::atomic<bool> fired{false};
  TimerId id = loop->RunAfter(absl::Milliseconds(200), [&] { fired = true; });
  loop->Cancel(id);
  // A later timer proves the loop went past the cancelled deadline.
  absl::Notification later;
  loop->RunAfter(absl::Milliseconds(300), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(kWait));
  EXPECT_FALSE(fired.load());
}

TEST(EventLoopTest, CancelOfUnknownOrFiredIdIsNoOp) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Notification fired;
  TimerId id = loop->RunAfter(absl::ZeroDuration(), [&] { fired.Notify(); });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kWait));
  loop->Cancel(id);
  loop->Cancel(TimerId{});
  loop->Cancel(TimerId{123456789});
  absl::Notification alive;
  loop->QueueInLoop([&] { alive.Notify(); });
  EXPECT_TRUE(alive.WaitForNotificationWithTimeout(kWait));
}

TEST(EventLoopTest, RunEveryRepeatsUntilCancelledFromItsOwnCallback) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  std::atomic<int> ticks{0};
  absl::Notification stopped;
  auto id = std::make_shared<TimerId>();
  absl::Notification registered;
  loop->RunInLoop([&, id] {
    *id = loop->RunEvery(absl::Milliseconds(1), [&, id] {
      if (++ticks == 5) {
        loop->Cancel(*id);
        stopped.Notify();
      }
    });
    registered.Notify();
  });
  ASSERT_TRUE(stopped.WaitForNotificationWithTimeout(kWait));
  absl::Notification later;
  loop->RunAfter(absl::Milliseconds(20), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(ticks.load(), 5);
}

// Reads one byte per readable event and stops listening.
class ReadOnce final : public Channel::Handler {
 public:
  ReadOnce(int fd, absl::Notification* readable)
      : fd_(fd), readable_(readable) {}
  void set_channel(Channel* channel) { channel_ = channel; }
  void OnReadable() override {
    char byte;
    ASSERT_EQ(::read(fd_, &byte, 1), 1);
    EXPECT_EQ(byte, 'x');
    channel_->DisableAll();
    readable_->Notify();
  }
  void OnWritable() override { ADD_FAILURE() << "not asked for"; }

 private:
  const int fd_;
  absl::Notification* const readable_;
  Channel* channel_ = nullptr;
};

TEST(EventLoopTest, ChannelDeliversReadableEvents) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  absl::Notification readable;
  ReadOnce handler(fds[0], &readable);
  std::unique_ptr<Channel> channel;
  loop->RunInLoop([&] {
    channel = std::make_unique<Channel>(loop, fds[0], &handler);
    handler.set_channel(channel.get());
    channel->EnableReading();
  });
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  ASSERT_TRUE(readable.WaitForNotificationWithTimeout(kWait));
  absl::Notification removed;
  loop->RunInLoop([&] {
    channel->Remove();
    channel.reset();
    removed.Notify();
  });
  ASSERT_TRUE(removed.WaitForNotificationWithTimeout(kWait));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoopThreadPoolTest, HandsOutLoopsRoundRobin) {
  EventLoopThreadPool pool(3);
  pool.Start();
  ASSERT_EQ(pool.size(), 3u);
  EventLoop* first = pool.GetNextLoop();
  EventLoop* second = pool.GetNextLoop();
  EventLoop* third = pool.GetNextLoop();
  EXPECT_NE(first, second);
  EXPECT_NE(second, third);
  EXPECT_NE(first, third);
  EXPECT_EQ(pool.GetNextLoop(), first);
  absl::BlockingCounter ran(3);
  for (EventLoop* loop : pool.loops()) {
    loop->QueueInLoop([&ran, loop] {
      EXPECT_TRUE(loop->IsInLoopThread());
      ran.DecrementCount();
    });
  }
  ran.Wait();
  pool.Stop();
}

TEST(EventLoopDeathTest, SecondLoopInOneThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop first;
        EventLoop second;
      },
      "another EventLoop");
}

}  // namespace
}  // namespace tao

namespace tao {
namespace {

TEST(EventLoopTimerTest, CancelFromAnotherThreadWhileTimersFire) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  constexpr int kTimers = 100;
  std::vector<std::atomic<int>> ticks(kTimers);
  std::vector<TimerId> ids;
  for (int i = 0; i < kTimers; ++i) {
    ids.push_back(loop->RunEvery(absl::Milliseconds(1), [&ticks, i] {
      ticks[i].fetch_add(1, std::memory_order_relaxed);
    }));
  }
  // Wait until they are all firing, then cancel from this thread.
  absl::Notification firing;
  loop->RunAfter(absl::Milliseconds(5), [&] { firing.Notify(); });
  ASSERT_TRUE(firing.WaitForNotificationWithTimeout(kWait));
  for (TimerId id : ids) loop->Cancel(id);
  // Cancels are processed in order before this fence runs.
  absl::Notification fence;
  loop->QueueInLoop([&] { fence.Notify(); });
  ASSERT_TRUE(fence.WaitForNotificationWithTimeout(kWait));
  std::vector<int> at_fence;
  for (auto& t : ticks) at_fence.push_back(t.load());
  absl::Notification later;
  loop->RunAfter(absl::Milliseconds(20), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(kWait));
  for (int i = 0; i < kTimers; ++i) EXPECT_EQ(ticks[i].load(), at_fence[i]);
}

// Timers run on CLOCK_MONOTONIC (steady_clock and a CLOCK_MONOTONIC
// timerfd), so a wall-clock jump (NTP, date -s: Go tao's stalled-timer bug)
// cannot move them. The wall clock here is simulated as jumping a day: the
// loop's clock must stay with CLOCK_MONOTONIC, not with CLOCK_REALTIME.
TEST(EventLoopTimerTest, TimersFollowTheMonotonicClockNotTheWallClock) {
  EventLoop loop;
  struct timespec mono, real;
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  const absl::Duration loop_now = ToDuration(loop.Now().time_since_epoch());
  const absl::Duration monotonic = absl::DurationFromTimespec(mono);
  const absl::Duration wall_after_jump =
      absl::DurationFromTimespec(real) + absl::Hours(24);
  EXPECT_LT(absl::AbsDuration(loop_now - monotonic), absl::Seconds(1));
  EXPECT_GT(absl::AbsDuration(loop_now - wall_after_jump), absl::Hours(1));
  // And a timer's deadline is measured on that clock.
  const MonoTime start = loop.Now();
  MonoTime fired{};
  loop.RunAfter(absl::Milliseconds(20), [&] {
    fired = loop.Now();
    loop.Quit();
  });
  loop.Run();
  EXPECT_GE(fired - start, std::chrono::milliseconds(20));
}

}  // namespace
}  // namespace tao
