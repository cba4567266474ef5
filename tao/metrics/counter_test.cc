// Unit tests for tao::Counter and tao::Gauge: exact sums of concurrent
// increments (every shard counted once), shard numbering, Gauge Set/Add.
#include "tao/metrics/counter.h"

#include <cstddef>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

// `threads` threads that wait for `go`, then each add `per_thread` times
// `step(t)` (t: the thread's index) to `counter`.
template <typename Step>
std::vector<std::thread> StartIncrementing(Counter& counter, int threads,
                                           uint64_t per_thread,
                                           const absl::Notification& go,
                                           Step step) {
  std::vector<std::thread> started;
  for (int t = 0; t < threads; ++t) {
    started.emplace_back([&counter, &go, per_thread, n = step(t)] {
      go.WaitForNotification();
      for (uint64_t i = 0; i < per_thread; ++i) counter.Increment(n);
    });
  }
  return started;
}

uint64_t One(int) { return 1; }

TEST(CounterTest, StartsAtZeroAndAddsIncrements) {
  Counter counter;
  EXPECT_EQ(counter.Value(), 0u);
  counter.Increment();
  EXPECT_EQ(counter.Value(), 1u);
  counter.Increment(41);
  EXPECT_EQ(counter.Value(), 42u);
  counter.Increment(0);
  EXPECT_EQ(counter.Value(), 42u);
}

TEST(CounterTest, LargeIncrementsDoNotWrapEarly) {
  Counter counter;
  counter.Increment(uint64_t{1} << 40);
  counter.Increment(uint64_t{1} << 40);
  EXPECT_EQ(counter.Value(), uint64_t{1} << 41);
}

// 8 threads (each on its own shard, or sharing when more threads than
// shards ran before) x 100k increments: the sum over the shards is exact.
TEST(CounterTest, ConcurrentIncrementsSumExactly) {
  constexpr int kThreads = 8;
  constexpr uint64_t kPerThread = 100000;
  Counter counter;
  absl::Notification go;
  std::vector<std::thread> threads =
      StartIncrementing(counter, kThreads, kPerThread, go, One);
  go.Notify();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
}

// Increments of different sizes from more threads than there are shards, so
// that some threads share one.
TEST(CounterTest, ThreadsSharingShardsStillSumExactly) {
  constexpr int kThreads = static_cast<int>(kCounterShards) + 4;
  constexpr uint64_t kPerThread = 10000;
  Counter counter;
  absl::Notification go;
  std::vector<std::thread> threads =
      StartIncrementing(counter, kThreads, kPerThread, go,
                        [](int t) -> uint64_t { return t + 1; });
  go.Notify();
  for (std::thread& t : threads) t.join();
  // sum over t of (t + 1) * kPerThread
  EXPECT_EQ(counter.Value(), kPerThread * kThreads * (kThreads + 1) / 2);
}

// A reader concurrent with writers sees a value that never goes down (each
// shard only grows) and ends at the exact total.
TEST(CounterTest, ValueIsMonotonicWhileIncrementing) {
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 50000;
  Counter counter;
  absl::Notification go;
  std::vector<std::thread> threads =
      StartIncrementing(counter, kThreads, kPerThread, go, One);
  go.Notify();
  uint64_t last = 0;
  while (last < kThreads * kPerThread) {
    const uint64_t now = counter.Value();
    ASSERT_GE(now, last);
    ASSERT_LE(now, kThreads * kPerThread);
    last = now;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
}

TEST(CounterTest, ThreadShardIsStableAndInRange) {
  const size_t shard = ThisThreadShard();
  EXPECT_LT(shard, kCounterShards);
  EXPECT_EQ(ThisThreadShard(), shard);
}

// Threads numbered one after another own distinct shards until
// kOwnedShards are taken; every later thread shares kSharedShard.
TEST(CounterTest, NewThreadsOwnDistinctShardsThenShare) {
  std::set<size_t> owned;
  for (size_t i = 0; i < kOwnedShards + 3; ++i) {
    size_t shard = kCounterShards;
    std::thread([&] { shard = ThisThreadShard(); }).join();
    ASSERT_LT(shard, kCounterShards);
    if (shard == kSharedShard) continue;
    EXPECT_TRUE(owned.insert(shard).second) << "shard " << shard << " twice";
  }
  // This test's threads alone asked more often than there are owned
  // shards: a new thread shares.
  std::thread([&] { EXPECT_EQ(ThisThreadShard(), kSharedShard); }).join();
}

TEST(GaugeTest, SetAndAdd) {
  Gauge gauge;
  EXPECT_EQ(gauge.Value(), 0);
  gauge.Set(10);
  EXPECT_EQ(gauge.Value(), 10);
  gauge.Add(5);
  EXPECT_EQ(gauge.Value(), 15);
  gauge.Add(-20);
  EXPECT_EQ(gauge.Value(), -5);
  gauge.Set(-7);
  EXPECT_EQ(gauge.Value(), -7);
  gauge.Set(0);
  EXPECT_EQ(gauge.Value(), 0);
}

TEST(GaugeTest, ConcurrentAddsBalance) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  Gauge gauge;
  gauge.Set(100);
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Half the threads add 3, half subtract 1.
    threads.emplace_back([&, t] {
      go.WaitForNotification();
      for (int i = 0; i < kPerThread; ++i) gauge.Add(t % 2 == 0 ? 3 : -1);
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(gauge.Value(), 100 + (kThreads / 2) * kPerThread * (3 - 1));
}

}  // namespace
}  // namespace tao
