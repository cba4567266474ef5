// WorkerPool: dispatch throughput, and strands vs. hashing keys to workers.
//
// BM_WorkerPool_Throughput: one producer posts tiny tasks round-robin over
//   `strands` strands on `workers` workers; items_per_second is end to end
//   (post, schedule, run, drain).
// BM_HashedQueues_Skewed vs. BM_WorkerPool_Skewed: the same skewed workload
//   (16 keys, 3 of them busy) drained by N workers. The baseline gives each
//   worker its own FIFO and sends key k to worker k % N (the naive design; it
//   also keeps per-key order). The busy keys 0, 4 and 8 all land on worker 0,
//   which does most of the work while the others idle. The strand pool lets
//   any idle worker take any ready strand. Time per iteration = time to drain
//   one batch; each task burns ~1 us of CPU.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tao/concurrent/worker_pool.h"

namespace tao {
namespace {

// Loop iterations of Spin() per microsecond, measured once.
int64_t IterationsPerMicrosecond() {
  static const int64_t kPerUs = [] {
    constexpr int64_t kProbe = int64_t{1} << 22;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < kProbe; ++i) benchmark::DoNotOptimize(i);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    return std::max<int64_t>(1, kProbe * 1000 / std::max<int64_t>(1, ns));
  }();
  return kPerUs;
}

// About one microsecond of CPU work.
void SpinOneMicrosecond() {
  const int64_t n = IterationsPerMicrosecond();
  for (int64_t i = 0; i < n; ++i) benchmark::DoNotOptimize(i);
}

// One producer, `strands` strands, `workers` workers, tasks that do nothing.
void BM_WorkerPool_Throughput(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int strand_count = static_cast<int>(state.range(1));
  constexpr int kBatch = 10000;  // Tasks per iteration (a multiple of 100).
  const int per_strand = kBatch / strand_count;
  WorkerPool pool(workers);
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  for (int i = 0; i < strand_count; ++i) strands.push_back(pool.NewStrand());
  for (auto _ : state) {
    absl::BlockingCounter done(strand_count);
    for (int i = 0; i < per_strand; ++i) {
      const bool last = i == per_strand - 1;
      for (auto& strand : strands) {
        strand->Post([&done, last] {
          if (last) done.DecrementCount();
        });
      }
    }
    done.Wait();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_WorkerPool_Throughput)
    ->ArgNames({"workers", "strands"})
    ->ArgsProduct({{1, 2, 3, 4}, {1, 100}})
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// The naive design: worker key % N, one FIFO per worker.
// Thread-safe: Post from any thread; tasks_run_per_worker after the tasks
// ran (it is not synchronized with them otherwise).
class HashedQueues {
 public:
  using Task = absl::AnyInvocable<void()>;

  explicit HashedQueues(int workers) : queues_(workers) {
    for (Queue& queue : queues_) {
      threads_.emplace_back([&queue] { queue.Run(); });
    }
  }
  ~HashedQueues() {
    for (Queue& queue : queues_) queue.Stop();
    for (std::thread& thread : threads_) thread.join();
  }

  void Post(uint64_t key, Task task) {
    queues_[key % queues_.size()].Push(std::move(task));
  }

  std::vector<uint64_t> tasks_run_per_worker() const {
    std::vector<uint64_t> result;
    for (const Queue& queue : queues_) result.push_back(queue.tasks_run());
    return result;
  }

 private:
  class Queue {
   public:
    void Push(Task task) {
      absl::MutexLock lock(&mu_);
      tasks_.push_back(std::move(task));
      cv_.Signal();
    }
    void Stop() {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      cv_.Signal();
    }
    void Run() {
      while (true) {
        Task task;
        {
          absl::MutexLock lock(&mu_);
          while (tasks_.empty() && !stopping_) cv_.Wait(&mu_);
          if (tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
        tasks_run_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    uint64_t tasks_run() const {
      return tasks_run_.load(std::memory_order_relaxed);
    }

   private:
    absl::Mutex mu_;
    absl::CondVar cv_;
    std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
    bool stopping_ ABSL_GUARDED_BY(mu_) = false;
    std::atomic<uint64_t> tasks_run_{0};
  };

  std::vector<Queue> queues_;
  std::vector<std::thread> threads_;
};

// The busiest worker's share of all tasks run: 1/N is perfect balance.
// Unlike drain time it shows the hot spot even when the machine is loaded.
void ReportBusiestShare(benchmark::State& state,
                        const std::vector<uint64_t>& per_worker) {
  uint64_t total = 0;
  uint64_t busiest = 0;
  for (uint64_t n : per_worker) {
    total += n;
    busiest = std::max(busiest, n);
  }
  state.counters["busiest_worker_share"] =
      total == 0 ? 0.0 : static_cast<double>(busiest) / total;
}

// 16 keys; keys 0, 4 and 8 are busy (200 tasks each), the other 13 send 10.
// With 2 or 4 workers, k % N puts all three busy keys on worker 0.
constexpr int kKeys = 16;
int TasksForKey(int key) { return key % 4 == 0 && key < 12 ? 200 : 10; }
int TasksPerBatch() {
  int total = 0;
  for (int key = 0; key < kKeys; ++key) total += TasksForKey(key);
  return total;
}

// Posts one skewed batch, interleaving keys like arriving messages, through
// `post(key, task)`, and waits until every task ran.
template <typename PostFn>
void RunSkewedBatch(PostFn post) {
  absl::BlockingCounter done(kKeys);
  for (int round = 0; round < TasksForKey(0); ++round) {
    for (int key = 0; key < kKeys; ++key) {
      const int n = TasksForKey(key);
      if (round >= n) continue;
      const bool last = round == n - 1;
      post(key, [&done, last] {
        SpinOneMicrosecond();
        if (last) done.DecrementCount();
      });
    }
  }
  done.Wait();
}

void BM_HashedQueues_Skewed(benchmark::State& state) {
  IterationsPerMicrosecond();  // Calibrate outside the timed loop.
  HashedQueues queues(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    RunSkewedBatch([&queues](int key, WorkerPool::Task task) {
      queues.Post(key, std::move(task));
    });
  }
  state.SetItemsProcessed(state.iterations() * TasksPerBatch());
  ReportBusiestShare(state, queues.tasks_run_per_worker());
}
BENCHMARK(BM_HashedQueues_Skewed)
    ->ArgNames({"workers"})
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_WorkerPool_Skewed(benchmark::State& state) {
  IterationsPerMicrosecond();
  WorkerPool pool(static_cast<int>(state.range(0)));
  std::vector<std::shared_ptr<WorkerPool::Strand>> strands;
  for (int key = 0; key < kKeys; ++key) strands.push_back(pool.NewStrand());
  for (auto _ : state) {
    RunSkewedBatch([&strands](int key, WorkerPool::Task task) {
      strands[key]->Post(std::move(task));
    });
  }
  state.SetItemsProcessed(state.iterations() * TasksPerBatch());
  pool.Shutdown();  // Final per-worker counts.
  ReportBusiestShare(state, pool.tasks_run_per_worker());
}
BENCHMARK(BM_WorkerPool_Skewed)
    ->ArgNames({"workers"})
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace
}  // namespace tao
