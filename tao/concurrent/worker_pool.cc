#include "tao/concurrent/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tao/base/logging.h"

namespace tao {
namespace {

// The Core whose worker loop runs on this thread, if any (Shutdown's check).
thread_local const void* current_core = nullptr;

// One worker's task count, on its own cache line.
struct alignas(64) PaddedCounter {
  std::atomic<uint64_t> value{0};
};

}  // namespace

// The run queue shared by all workers.
//
// Thread-safe. Lock order: Strand::mu_ before Core::mu_ (Strand::Post
// schedules the strand while holding its own lock, so that checking
// stopping_ and queueing the strand are one step). Core::mu_ is never held
// while calling into a strand or running a task.
class WorkerPool::Core {
 public:
  explicit Core(int threads)
      : threads_(threads), tasks_run_(new PaddedCounter[threads]) {}

  int threads() const { return threads_; }

  // True once Stop() has been called. Callers that act on a false answer
  // must either hold a scheduled strand's lock (its work is drained anyway)
  // or re-check under mu_ (Schedule, PostTask).
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Appends an idle strand that just got its first task to the run queue.
  // Returns false (and queues nothing) if the pool is stopping.
  // REQUIRES: strand->mu_ held and the strand idle.
  bool Schedule(std::shared_ptr<Strand> strand) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (stopping_.load(std::memory_order_relaxed)) return false;
    run_queue_.push_back(Item{std::move(strand), nullptr});
    cv_.Signal();
    return true;
  }

  // Puts back a strand a worker still owns, after its turn. Always accepted,
  // even while stopping: its tasks were accepted before the stop.
  void Requeue(std::shared_ptr<Strand> strand) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    run_queue_.push_back(Item{std::move(strand), nullptr});
    cv_.Signal();
  }

  // Queues an unordered task. Returns false if stopping, leaving `*task`
  // untouched so the caller destroys it outside the lock.
  bool PostTask(Task* task) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (stopping_.load(std::memory_order_relaxed)) return false;
    run_queue_.push_back(Item{nullptr, std::move(*task)});
    cv_.Signal();
    return true;
  }

  // Rejects new work from now on and wakes every worker so that each exits
  // once the run queue is empty.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    stopping_.store(true, std::memory_order_release);
    cv_.SignalAll();
  }

  // The body of worker `index`. Returns when stopping and nothing is left.
  void WorkerLoop(int index) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<uint64_t> TasksRun() const {
    std::vector<uint64_t> result(threads_);
    for (int i = 0; i < threads_; ++i) {
      result[i] = tasks_run_[i].value.load(std::memory_order_relaxed);
    }
    return result;
  }

 private:
  // A ready strand, or (strand == nullptr) an unordered task.
  struct Item {
    std::shared_ptr<Strand> strand;
    Task task;
  };

  // Immutable after construction.
  const int threads_;
  const std::unique_ptr<PaddedCounter[]> tasks_run_;

  absl::Mutex mu_;
  absl::CondVar cv_;
  // FIFO of ready work. A strand appears at most once and never while a
  // worker runs it (invariant 1 in worker_pool.h).
  std::deque<Item> run_queue_ ABSL_GUARDED_BY(mu_);
  // Written only under mu_ (once, false -> true); read without it by
  // stopping(). Workers exit when it is set and run_queue_ is empty: after
  // the stop only owning workers add to the queue (Requeue), and each then
  // pops again, so no queued work is stranded.
  std::atomic<bool> stopping_{false};
};

void WorkerPool::Core::WorkerLoop(int index) {
  current_core = this;
  std::atomic<uint64_t>* tasks_run = &tasks_run_[index].value;
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      while (run_queue_.empty() && !stopping_.load(std::memory_order_relaxed)) {
        cv_.Wait(&mu_);
      }
      if (run_queue_.empty()) break;
      item = std::move(run_queue_.front());
      run_queue_.pop_front();
    }
    if (item.strand != nullptr) {
      // This worker owns the strand until it re-queues it or it goes idle.
      if (item.strand->RunTurn(tasks_run)) Requeue(std::move(item.strand));
    } else {
      item.task();
      tasks_run->fetch_add(1, std::memory_order_relaxed);
    }
    // `item` (the task, or this worker's strand reference) dies here,
    // outside every lock.
  }
  current_core = nullptr;
}

// ---------------------------------------------------------------------------
// WorkerPool

WorkerPool::WorkerPool(int threads) : core_(std::make_shared<Core>(threads)) {
  TAO_CHECK(threads > 0) << "WorkerPool needs at least one thread (resolve "
                            "kOneThreadPerCore with ResolveThreadCount)";
  absl::MutexLock lock(&join_mu_);
  workers_.reserve(core_->threads());
  for (int i = 0; i < core_->threads(); ++i) {
    workers_.emplace_back([core = core_.get(), i] { core->WorkerLoop(i); });
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

std::shared_ptr<WorkerPool::Strand> WorkerPool::NewStrand() {
  return std::make_shared<Strand>(core_);
}

void WorkerPool::Post(Task task) {
  // On rejection `task` is destroyed when this returns, outside the lock.
  core_->PostTask(&task);
}

void WorkerPool::Shutdown() {
  TAO_CHECK(current_core != core_.get())
      << "WorkerPool::Shutdown called from one of its own workers";
  core_->Stop();
  absl::MutexLock lock(&join_mu_);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

int WorkerPool::threads() const { return core_->threads(); }

std::vector<uint64_t> WorkerPool::tasks_run_per_worker() const {
  return core_->TasksRun();
}

// ---------------------------------------------------------------------------
// WorkerPool::Strand

WorkerPool::Strand::Strand(std::shared_ptr<Core> core)
    : core_(std::move(core)) {
  TAO_CHECK(core_ != nullptr) << "use WorkerPool::NewStrand()";
}

WorkerPool::Strand::~Strand() = default;

size_t WorkerPool::Strand::Post(Task task) {
  // On rejection `task` is destroyed when this returns, outside the lock.
  absl::MutexLock lock(&mu_);
  // A scheduled strand is drained before the workers exit, so a task added
  // to it after a stale "not stopping" answer still runs.
  if (core_->stopping()) return 0;
  if (!scheduled_) {
    // Idle: the queue is empty and no worker touches it. Queue the strand
    // first; a worker that pops it waits for mu_ and then sees the task.
    if (!core_->Schedule(shared_from_this())) return 0;
    scheduled_ = true;
  }
  tasks_.push_back(std::move(task));
  return tasks_.size();
}

size_t WorkerPool::Strand::queued() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

void WorkerPool::Strand::NotifyWhenAtMost(size_t n, Callback callback) {
  Callback replaced;  // Destroyed after the lock is released.
  bool run_now = false;
  {
    absl::MutexLock lock(&mu_);
    replaced = std::move(notify_);
    notify_ = nullptr;
    if (tasks_.size() <= n) {
      run_now = true;
    } else {
      // Tasks are queued, so the strand is scheduled and a worker will
      // check the count after each task (RunTurn).
      notify_at_most_ = n;
      notify_ = std::move(callback);
    }
  }
  if (run_now) callback();
}

bool WorkerPool::Strand::RunTurn(std::atomic<uint64_t>* tasks_run) {
  int ran = 0;
  while (true) {
    Task task;
    Callback callback;
    {
      absl::MutexLock lock(&mu_);
      if (notify_ != nullptr && tasks_.size() <= notify_at_most_) {
        // The task that just ran brought the count down (a pending
        // callback always starts with the count above its bound).
        callback = std::move(notify_);
        notify_ = nullptr;
      } else if (tasks_.empty()) {
        scheduled_ = false;
        return false;
      } else if (ran == kMaxTasksPerTurn) {
        return true;  // Still scheduled; the caller re-queues it.
      } else {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    // Still the owner: the callback and the task run before any later task
    // of this strand, on this worker, outside the lock.
    if (callback != nullptr) {
      callback();
      continue;
    }
    task();
    ++ran;
    tasks_run->fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace tao
