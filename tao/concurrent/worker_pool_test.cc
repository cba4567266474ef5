#include "tao/concurrent/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/base/thread_count.h"

namespace tao {
namespace {

// Generous: only reached when something is broken (and under TSan on a
// loaded machine).
constexpr absl::Duration kTimeout = absl::Seconds(30);

// Counts down from `n`; WaitFor returns true once the count reached zero.
class Latch {
 public:
  explicit Latch(int n) : remaining_(n) {
    if (n == 0) done_.Notify();
  }
  void CountDown() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      done_.Notify();
    }
  }
  bool WaitFor(absl::Duration timeout) {
    return done_.WaitForNotificationWithTimeout(timeout);
  }

 private:
  std::atomic<int> remaining_;
  absl::Notification done_;
};

// What one strand's tasks saw. Written only by the strand's tasks, without a
// lock: the strand must serialize them (TSan checks the hand-off).
struct StrandLog {
  std::vector<std::pair<int, int>> seen;  // (producer, sequence number)
  std::atomic<bool> in_flight{false};
  std::atomic<int> overlaps{0};

  // Call at the start and end of every task of the strand.
  void Enter() {
    if (in_flight.exchange(true, std::memory_order_acq_rel)) {
      overlaps.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void Leave() { in_flight.store(false, std::memory_order_release); }
};

TEST(WorkerPoolTest, ThreadCount) {
  WorkerPool three(3);
  EXPECT_EQ(three.threads(), 3);
  EXPECT_EQ(three.tasks_run_per_worker(), std::vector<uint64_t>(3, 0));
  // Option values are resolved first (tao/base/thread_count.h).
  WorkerPool per_core(*ResolvePositiveThreadCount(kOneThreadPerCore, "x"));
  EXPECT_EQ(per_core.threads(), static_cast<int>(std::max(
                                    1u, std::thread::hardware_concurrency())));
}

TEST(WorkerPoolDeathTest, NoThreadsIsAProgrammingError) {
  EXPECT_DEATH(WorkerPool pool(0), "at least one thread");
}

TEST(WorkerPoolTest, KeepsPostOrderPerStrandUnderLoad) {
  constexpr int kStrands = 100;
  constexpr int kProducers = 4;
  // 100 strands x 4 producers x 250 = 1000 tasks per strand.
  constexpr int kPerProducerPerStrand = 250;
  WorkerPool pool(4);
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  std::vector<StrandLog> logs(kStrands);
  for (int i = 0; i < kStrands; ++i) strands.push_back(pool.NewStrand());
  Latch done(kStrands * kProducers * kPerProducerPerStrand);

  // Every producer posts to every strand at once, so strands get concurrent
  // posts from several threads; each producer's own order must hold.
  absl::Notification go;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      go.WaitForNotification();
      for (int seq = 0; seq < kPerProducerPerStrand; ++seq) {
        for (int s = 0; s < kStrands; ++s) {
          StrandLog* log = &logs[s];
          EXPECT_GE(strands[s]->Post([log, p, seq, &done] {
            log->Enter();
            log->seen.emplace_back(p, seq);
            log->Leave();
            done.CountDown();
          }),
                    1u);
        }
      }
    });
  }
  go.Notify();
  for (std::thread& t : producers) t.join();
  ASSERT_TRUE(done.WaitFor(kTimeout));
  pool.Shutdown();  // Counters are bumped after each task returns.

  uint64_t total = 0;
  for (uint64_t n : pool.tasks_run_per_worker()) total += n;
  EXPECT_EQ(total, uint64_t{kStrands * kProducers * kPerProducerPerStrand});
  for (int s = 0; s < kStrands; ++s) {
    const StrandLog& log = logs[s];
    EXPECT_EQ(log.overlaps.load(), 0) << "strand " << s;
    ASSERT_EQ(log.seen.size(), size_t{kProducers * kPerProducerPerStrand});
    std::vector<int> next(kProducers, 0);
    for (const auto& [producer, seq] : log.seen) {
      ASSERT_EQ(seq, next[producer])
          << "strand " << s << " producer " << producer;
      ++next[producer];
    }
    EXPECT_EQ(strands[s]->queued(), 0u);
  }
}

TEST(WorkerPoolTest, NeverRunsTwoTasksOfOneStrandAtOnce) {
  constexpr int kStrands = 4;
  constexpr int kTasks = 2000;
  WorkerPool pool(8);  // More workers than strands: all compete.
  std::vector<StrandLog> logs(kStrands);
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  for (int i = 0; i < kStrands; ++i) strands.push_back(pool.NewStrand());
  Latch done(kStrands * kTasks);
  for (int t = 0; t < kTasks; ++t) {
    for (int s = 0; s < kStrands; ++s) {
      StrandLog* log = &logs[s];
      strands[s]->Post([log, t, &done] {
        log->Enter();
        std::this_thread::yield();  // Widen the window for an overlap.
        log->seen.emplace_back(0, t);
        log->Leave();
        done.CountDown();
      });
    }
  }
  ASSERT_TRUE(done.WaitFor(kTimeout));
  for (int s = 0; s < kStrands; ++s) {
    EXPECT_EQ(logs[s].overlaps.load(), 0);
    ASSERT_EQ(logs[s].seen.size(), size_t{kTasks});
    for (int t = 0; t < kTasks; ++t) ASSERT_EQ(logs[s].seen[t].second, t);
  }
}

TEST(WorkerPoolTest, RunsDifferentStrandsInParallel) {
  constexpr int kWorkers = 4;
  WorkerPool pool(kWorkers);
  absl::Mutex mu;
  int started = 0;
  std::atomic<int> all_met{0};
  Latch done(kWorkers);
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  for (int i = 0; i < kWorkers; ++i) {
    strands.push_back(pool.NewStrand());
    // Each task blocks until all four have started: only possible if the
    // four strands run on four workers at the same time.
    strands.back()->Post([&] {
      absl::MutexLock lock(&mu);
      ++started;
      if (mu.AwaitWithTimeout(
              absl::Condition(
                  +[](int* n) { return *n == kWorkers; }, &started),
              kTimeout)) {
        all_met.fetch_add(1);
      }
      done.CountDown();
    });
  }
  ASSERT_TRUE(done.WaitFor(2 * kTimeout));
  EXPECT_EQ(all_met.load(), kWorkers);
  pool.Shutdown();  // Counters are bumped after each task returns.
  // A blocked task holds its worker, so each worker ran exactly one.
  EXPECT_EQ(pool.tasks_run_per_worker(), std::vector<uint64_t>(kWorkers, 1));
}

// Burns CPU for a while (tens of microseconds unoptimized) so that a task's
// cost dwarfs scheduling noise.
void Spin(int iterations) {
  volatile int sink = 0;
  for (int i = 0; i < iterations; ++i) sink = sink + i;
}

TEST(WorkerPoolTest, HeavyStrandDoesNotStarveLightOnes) {
  constexpr int kWorkers = 4;
  constexpr int kLightStrands = 7;
  constexpr int kLightTasks = 20;
  constexpr int kHeavyTasks = 100 * kLightTasks;  // 100x heavier.
  constexpr int kSpin = 20000;
  WorkerPool pool(kWorkers);

  // Hold every worker so that all work below is queued before any runs,
  // heavy strand first: the worst case for a FIFO of tasks.
  absl::Notification go;
  Latch gates_started(kWorkers);
  Latch gates_done(kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    pool.Post([&] {
      gates_started.CountDown();
      EXPECT_TRUE(go.WaitForNotificationWithTimeout(kTimeout));
      gates_done.CountDown();
    });
  }
  ASSERT_TRUE(gates_started.WaitFor(kTimeout));

  std::atomic<int> finish_ticket{0};
  std::atomic<int> heavy_finished_at{-1};
  std::vector<std::atomic<int>> light_finished_at(kLightStrands);
  Latch done(1 + kLightStrands);
  auto heavy = pool.NewStrand();
  for (int t = 0; t < kHeavyTasks; ++t) {
    heavy->Post([&, t] {
      Spin(kSpin);
      if (t == kHeavyTasks - 1) {
        heavy_finished_at = finish_ticket.fetch_add(1);
        done.CountDown();
      }
    });
  }
  std::vector<std::shared_ptr<WorkerPool::Strand>> lights;
  for (int s = 0; s < kLightStrands; ++s) {
    lights.push_back(pool.NewStrand());
    for (int t = 0; t < kLightTasks; ++t) {
      lights.back()->Post([&, s, t] {
        Spin(kSpin);
        if (t == kLightTasks - 1) {
          light_finished_at[s] = finish_ticket.fetch_add(1);
          done.CountDown();
        }
      });
    }
  }
  go.Notify();
  ASSERT_TRUE(gates_done.WaitFor(kTimeout));
  ASSERT_TRUE(done.WaitFor(kTimeout));
  // Each light strand needs 1% of the heavy one's CPU time and gets a
  // worker after at most one heavy turn, so it finishes first unless the OS
  // stalls its worker for ~99% of the heavy strand's run.
  for (int s = 0; s < kLightStrands; ++s) {
    EXPECT_LT(light_finished_at[s].load(), heavy_finished_at.load())
        << "light strand " << s << " finished after the heavy one";
  }
}

TEST(WorkerPoolTest, BusyStrandYieldsItsWorkerAfterOneTurn) {
  // One worker makes the schedule deterministic: the heavy strand, queued
  // first, runs exactly one turn; then each light strand queued behind it
  // gets the worker before the heavy strand's second turn.
  WorkerPool pool(1);
  absl::Notification go;
  Latch gate_started(1);
  pool.Post([&] {
    gate_started.CountDown();
    EXPECT_TRUE(go.WaitForNotificationWithTimeout(kTimeout));
  });
  ASSERT_TRUE(gate_started.WaitFor(kTimeout));

  constexpr int kHeavyTasks = 10 * WorkerPool::kMaxTasksPerTurn;
  constexpr int kLightStrands = 3;
  int heavy_done = 0;  // Everything runs on the one worker.
  std::vector<int> heavy_done_at_light;
  Latch done(1 + kLightStrands);
  auto heavy = pool.NewStrand();
  for (int t = 0; t < kHeavyTasks; ++t) {
    heavy->Post([&, t] {
      ++heavy_done;
      if (t == kHeavyTasks - 1) done.CountDown();
    });
  }
  std::vector<std::shared_ptr<WorkerPool::Strand>> lights;
  for (int s = 0; s < kLightStrands; ++s) {
    lights.push_back(pool.NewStrand());
    lights.back()->Post([&] {
      heavy_done_at_light.push_back(heavy_done);
      done.CountDown();
    });
  }
  go.Notify();
  ASSERT_TRUE(done.WaitFor(kTimeout));
  EXPECT_EQ(heavy_done_at_light,
            std::vector<int>(kLightStrands, WorkerPool::kMaxTasksPerTurn));
}

TEST(WorkerPoolTest, PostReturnsQueuedCount) {
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  absl::Notification running, release;
  Latch done(4);
  // The running task is not counted.
  strand->Post([&] {
    running.Notify();
    EXPECT_TRUE(release.WaitForNotificationWithTimeout(kTimeout));
    done.CountDown();
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_EQ(strand->queued(), 0u);
  EXPECT_EQ(strand->Post([&] { done.CountDown(); }), 1u);
  EXPECT_EQ(strand->Post([&] { done.CountDown(); }), 2u);
  EXPECT_EQ(strand->Post([&] { done.CountDown(); }), 3u);
  EXPECT_EQ(strand->queued(), 3u);
  release.Notify();
  ASSERT_TRUE(done.WaitFor(kTimeout));
}

TEST(WorkerPoolTest, NotifyWhenAtMostRunsAtOnceIfAlreadyTrue) {
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  int calls = 0;
  std::thread::id ran_on;
  strand->NotifyWhenAtMost(0, [&] {
    ++calls;
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());

  // With a running task and two queued: at most 2 already holds.
  absl::Notification running, release;
  Latch done(3);
  strand->Post([&] {
    running.Notify();
    EXPECT_TRUE(release.WaitForNotificationWithTimeout(kTimeout));
    done.CountDown();
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(kTimeout));
  strand->Post([&] { done.CountDown(); });
  strand->Post([&] { done.CountDown(); });
  strand->NotifyWhenAtMost(2, [&] { ++calls; });
  EXPECT_EQ(calls, 2);
  release.Notify();
  ASSERT_TRUE(done.WaitFor(kTimeout));
  EXPECT_EQ(calls, 2);
}

TEST(WorkerPoolTest, NotifyWhenAtMostFiresOnceAfterTheCountDrops) {
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  absl::Notification running, release;
  strand->Post([&] {
    running.Notify();
    EXPECT_TRUE(release.WaitForNotificationWithTimeout(kTimeout));
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(kTimeout));

  constexpr int kQueued = 10;
  int completed = 0;  // Strand tasks only: serialized by the strand.
  for (int i = 0; i < kQueued; ++i) strand->Post([&] { ++completed; });
  ASSERT_EQ(strand->queued(), size_t{kQueued});

  std::atomic<int> calls{0};
  int completed_at_call = -1;
  size_t queued_at_call = 0;
  std::thread::id ran_on;
  absl::Notification fired;
  strand->NotifyWhenAtMost(3, [&] {
    // Runs as part of the strand, right after the 7th task.
    completed_at_call = completed;
    queued_at_call = strand->queued();
    ran_on = std::this_thread::get_id();
    calls.fetch_add(1);
    fired.Notify();
  });
  EXPECT_EQ(calls.load(), 0);
  release.Notify();
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kTimeout));

  Latch drained(1);
  strand->Post([&] { drained.CountDown(); });
  ASSERT_TRUE(drained.WaitFor(kTimeout));
  EXPECT_EQ(calls.load(), 1);  // One-shot.
  EXPECT_EQ(completed_at_call, kQueued - 3);
  EXPECT_EQ(queued_at_call, 3u);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(completed, kQueued);
}

TEST(WorkerPoolTest, NotifyWhenAtMostZeroFiresWhenDrained) {
  WorkerPool pool(3);
  auto strand = pool.NewStrand();
  absl::Notification running, release;
  strand->Post([&] {
    running.Notify();
    EXPECT_TRUE(release.WaitForNotificationWithTimeout(kTimeout));
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(kTimeout));
  constexpr int kQueued = 3 * WorkerPool::kMaxTasksPerTurn;  // Several turns.
  int completed = 0;
  for (int i = 0; i < kQueued; ++i) strand->Post([&] { ++completed; });
  int completed_at_call = -1;
  absl::Notification fired;
  strand->NotifyWhenAtMost(0, [&] {
    completed_at_call = completed;
    fired.Notify();
  });
  release.Notify();
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_EQ(completed_at_call, kQueued);
}

TEST(WorkerPoolTest, LaterNotifyWhenAtMostReplacesPendingOne) {
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  absl::Notification running, release;
  strand->Post([&] {
    running.Notify();
    EXPECT_TRUE(release.WaitForNotificationWithTimeout(kTimeout));
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(kTimeout));
  for (int i = 0; i < 5; ++i) strand->Post([] {});

  auto first_state = std::make_shared<int>(0);
  std::weak_ptr<int> first_alive = first_state;
  strand->NotifyWhenAtMost(1, [state = std::move(first_state)] { ++*state; });
  EXPECT_FALSE(first_alive.expired());
  absl::Notification second;
  strand->NotifyWhenAtMost(2, [&] { second.Notify(); });
  // The first callback was destroyed without running.
  EXPECT_TRUE(first_alive.expired());
  release.Notify();
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(kTimeout));
}

TEST(WorkerPoolTest, UnorderedPostsRunOnWorkers) {
  constexpr int kTasks = 1000;
  WorkerPool pool(3);
  Latch done(kTasks);
  for (int i = 0; i < kTasks; ++i) pool.Post([&] { done.CountDown(); });
  ASSERT_TRUE(done.WaitFor(kTimeout));
  pool.Shutdown();  // Counters are bumped after each task returns.
  const std::vector<uint64_t> per_worker = pool.tasks_run_per_worker();
  EXPECT_EQ(std::accumulate(per_worker.begin(), per_worker.end(), uint64_t{0}),
            uint64_t{kTasks});
}

TEST(WorkerPoolTest, TaskPostsToItsOwnStrand) {
  constexpr int kChain = 1000;
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  std::vector<int> seen;  // Strand tasks only.
  absl::Notification done;
  // Each task posts the next one; the strand is running, so Post queues it
  // (returning 1: the running task is not counted) instead of deadlocking.
  struct Step {
    WorkerPool::Strand* strand;
    std::vector<int>* seen;
    absl::Notification* done;
    int i;
    void operator()() {
      seen->push_back(i);
      if (i + 1 == kChain) {
        done->Notify();
        return;
      }
      EXPECT_EQ(strand->Post(Step{strand, seen, done, i + 1}), 1u);
    }
  };
  strand->Post(Step{strand.get(), &seen, &done, 0});
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
  ASSERT_EQ(seen.size(), size_t{kChain});
  for (int i = 0; i < kChain; ++i) ASSERT_EQ(seen[i], i);
}

TEST(WorkerPoolTest, TasksPostToOtherStrands) {
  constexpr int kStrands = 10;
  constexpr int kTokens = 8;
  constexpr int kHops = 500;
  WorkerPool pool(4);
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  std::vector<StrandLog> logs(kStrands);
  for (int i = 0; i < kStrands; ++i) strands.push_back(pool.NewStrand());
  Latch done(kTokens);

  // A token hops around the ring of strands; each hop is a task on the next
  // strand posted from a task of the previous one.
  struct Hop {
    std::vector<std::shared_ptr<WorkerPool::Strand>>* strands;
    std::vector<StrandLog>* logs;
    Latch* done;
    int token, hop, at;
    void operator()() {
      StrandLog& log = (*logs)[at];
      log.Enter();
      log.seen.emplace_back(token, hop);
      log.Leave();
      if (hop + 1 == kHops) {
        done->CountDown();
        return;
      }
      const int next = (at + 1) % kStrands;
      EXPECT_GE((*strands)[next]->Post(
                    Hop{strands, logs, done, token, hop + 1, next}),
                1u);
    }
  };
  for (int token = 0; token < kTokens; ++token) {
    const int at = token % kStrands;
    strands[at]->Post(Hop{&strands, &logs, &done, token, 0, at});
  }
  ASSERT_TRUE(done.WaitFor(kTimeout));
  size_t hops = 0;
  for (const StrandLog& log : logs) {
    EXPECT_EQ(log.overlaps.load(), 0);
    hops += log.seen.size();
    // A token visits a strand again only after going round the ring.
    std::vector<int> last(kTokens, -1);
    for (const auto& [token, hop] : log.seen) {
      EXPECT_GT(hop, last[token]);
      last[token] = hop;
    }
  }
  EXPECT_EQ(hops, size_t{kTokens * kHops});
}

TEST(WorkerPoolTest, DroppedStrandHandleStillRunsItsTasks) {
  WorkerPool pool(2);
  constexpr int kTasks = 300;
  Latch done(kTasks);
  auto strand = pool.NewStrand();
  std::weak_ptr<WorkerPool::Strand> weak = strand;
  for (int i = 0; i < kTasks; ++i) strand->Post([&] { done.CountDown(); });
  strand.reset();
  ASSERT_TRUE(done.WaitFor(kTimeout));
  pool.Shutdown();  // Workers drop their references before exiting.
  EXPECT_TRUE(weak.expired());
}

TEST(WorkerPoolTest, ShutdownRunsQueuedTasksThenJoins) {
  constexpr int kStrands = 10;
  constexpr int kTasks = 1000;
  WorkerPool pool(2);
  std::atomic<int> ran{0};
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  for (int s = 0; s < kStrands; ++s) {
    strands.push_back(pool.NewStrand());
    for (int t = 0; t < kTasks; ++t) {
      strands.back()->Post([&] { ran.fetch_add(1); });
    }
  }
  for (int t = 0; t < kTasks; ++t) pool.Post([&] { ran.fetch_add(1); });
  pool.Shutdown();
  EXPECT_EQ(ran.load(), (kStrands + 1) * kTasks);
  for (const auto& strand : strands) EXPECT_EQ(strand->queued(), 0u);
  const std::vector<uint64_t> per_worker = pool.tasks_run_per_worker();
  EXPECT_EQ(std::accumulate(per_worker.begin(), per_worker.end(), uint64_t{0}),
            uint64_t((kStrands + 1) * kTasks));
}

TEST(WorkerPoolTest, PostAfterShutdownDropsTheTask) {
  WorkerPool pool(2);
  auto strand = pool.NewStrand();
  pool.Shutdown();
  pool.Shutdown();  // Idempotent.

  bool ran = false;
  auto sentinel = std::make_shared<int>(0);
  std::weak_ptr<int> alive = sentinel;
  EXPECT_EQ(strand->Post([&ran, s = std::move(sentinel)] { ran = true; }), 0u);
  EXPECT_TRUE(alive.expired());  // Destroyed unrun.
  EXPECT_EQ(strand->queued(), 0u);

  sentinel = std::make_shared<int>(0);
  alive = sentinel;
  pool.Post([&ran, s = std::move(sentinel)] { ran = true; });
  EXPECT_TRUE(alive.expired());
  EXPECT_FALSE(ran);

  auto fresh = pool.NewStrand();
  EXPECT_EQ(fresh->Post([&] { ran = true; }), 0u);
  EXPECT_FALSE(ran);
}

TEST(WorkerPoolTest, ConcurrentShutdownCallsAllReturnAfterTheJoin) {
  auto pool = std::make_unique<WorkerPool>(2);
  std::atomic<int> ran{0};
  constexpr int kTasks = 500;
  auto strand = pool->NewStrand();
  for (int i = 0; i < kTasks; ++i) strand->Post([&] { ran.fetch_add(1); });
  std::vector<std::thread> stoppers;
  std::atomic<int> saw_all{0};
  for (int i = 0; i < 3; ++i) {
    stoppers.emplace_back([&] {
      pool->Shutdown();
      if (ran.load() == kTasks) saw_all.fetch_add(1);
    });
  }
  for (std::thread& t : stoppers) t.join();
  EXPECT_EQ(saw_all.load(), 3);
  pool.reset();  // The destructor's Shutdown is a no-op now.
}

TEST(WorkerPoolTest, StrandOutlivesPoolAsInertHandle) {
  std::shared_ptr<WorkerPool::Strand> strand;
  {
    WorkerPool pool(1);
    strand = pool.NewStrand();
    Latch done(1);
    EXPECT_EQ(strand->Post([&] { done.CountDown(); }), 1u);
    ASSERT_TRUE(done.WaitFor(kTimeout));
  }
  bool ran = false;
  EXPECT_EQ(strand->Post([&] { ran = true; }), 0u);
  EXPECT_FALSE(ran);
  EXPECT_EQ(strand->queued(), 0u);
  bool notified = false;
  strand->NotifyWhenAtMost(0, [&] { notified = true; });
  EXPECT_TRUE(notified);
}

TEST(WorkerPoolDeathTest, ShutdownFromAWorkerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        WorkerPool pool(1);
        absl::Notification never;
        pool.Post([&pool] { pool.Shutdown(); });
        never.WaitForNotificationWithTimeout(kTimeout);
      },
      "own workers");
}

}  // namespace
}  // namespace tao
