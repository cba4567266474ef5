// A fixed pool of worker threads that runs handlers in order per connection
// and balances connections across workers.
//
// Each connection gets a Strand. Tasks posted to one strand run one at a time,
// in post order, on whichever worker is free. Different strands run in
// parallel. This is the model of asio's strand and Netty's
// NonStickyEventExecutorGroup. It avoids the hot spots of hashing a
// connection id to a fixed worker: an idle worker takes any ready strand.
//
//   tao::WorkerPool pool(4);
//   std::shared_ptr<tao::WorkerPool::Strand> strand = pool.NewStrand();
//   size_t backlog = strand->Post([msg] { Handle(msg); });  // any thread
//   if (backlog > kHighWater) {
//     PauseReading();
//     strand->NotifyWhenAtMost(kLowWater, [] { ResumeReading(); });
//   }
//
// Scheduling. A strand has its own FIFO of tasks and is in one of two states:
// idle (no worker owns it and it is not in the run queue) or scheduled (it is
// in the pool's run queue or one worker is running it). The Post that finds
// it idle with no tasks marks it scheduled and appends it to the run queue.
// A worker pops a strand and runs up to kMaxTasksPerTurn of its tasks in a
// row (cache locality), then appends it to the tail of the run queue if it
// still has work (fairness: a busy strand cannot hold a worker forever), or
// marks it idle. The run queue is one FIFO shared by all workers, behind a
// mutex and a condition variable; idle workers sleep. Unordered tasks
// (WorkerPool::Post) go into the same run queue.
//
// Invariants:
//   1. A strand is in the run queue at most once, and never while a worker is
//      running it. So at most one worker owns a strand at a time, which gives
//      the per-strand order and mutual exclusion.
//   2. A strand with queued tasks is scheduled. Idle strands have no tasks.
//   3. Everything a task did is visible to the next task of the same strand,
//      even on another worker (hand-off through the strand's mutex).
//
// Shutdown. Shutdown() (also run by the destructor) stops accepting tasks:
// every Post that returns after Shutdown() started either is rejected (the
// task is destroyed unrun; Strand::Post returns 0) or was accepted before and
// runs. Then the workers run everything already queued, including tasks
// queued by running tasks before the stop, and are joined. Tasks posted by
// tasks during that drain are rejected like any other late Post.
//
// Lifetime. Strands are shared_ptrs; the pool keeps a strand alive while it
// has queued tasks, so dropping the last handle does not drop work. A strand
// may outlive the pool object, but only as an inert handle: Post returns 0.
// Tasks are destroyed outside every lock, on the thread that ran them (or on
// the posting thread when rejected), so a task's captures may post again.

#ifndef TAO_CONCURRENT_WORKER_POOL_H_
#define TAO_CONCURRENT_WORKER_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace tao {

// Thread-safe: every method may be called from any thread, except Shutdown()
// (and so the destructor), which must not be called from one of this pool's
// workers (TAO_CHECK).
class WorkerPool {
 public:
  using Task = absl::AnyInvocable<void()>;

  // The most tasks of one strand a worker runs before it puts the strand
  // back at the tail of the run queue.
  static constexpr int kMaxTasksPerTurn = 64;

  // Starts `threads` workers. REQUIRES: threads > 0 (an option's count is
  // resolved with tao/base/thread_count.h first).
  explicit WorkerPool(int threads);
  // Shutdown().
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  class Strand;

  // A new strand (e.g. one per connection), initially idle.
  std::shared_ptr<Strand> NewStrand();

  // Runs `task` on any worker, unordered with respect to everything else.
  // After Shutdown() the task is destroyed unrun.
  void Post(Task task);

  // Stops accepting tasks, runs everything already queued, joins the workers.
  // Idempotent; concurrent callers all return after the join.
  // REQUIRES: not called from one of this pool's workers.
  void Shutdown();

  // The number of worker threads.
  int threads() const;

  // Tasks run by each worker so far (strand tasks and unordered tasks; not
  // NotifyWhenAtMost callbacks). Index = worker. For balance tests and stats.
  std::vector<uint64_t> tasks_run_per_worker() const;

 private:
  // The run queue and the workers' shared state (worker_pool.cc).
  class Core;

  // Shared with every strand, so strands can outlive the pool object.
  const std::shared_ptr<Core> core_;

  absl::Mutex join_mu_;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(join_mu_);
};

// A serial queue of tasks run on the pool. Tasks posted to one strand run one
// at a time, in post order (by happens-before: posts from one thread keep
// that thread's order; posts racing from different threads are ordered by
// whichever takes the strand's lock first), on whichever worker is free.
//
// Thread-safe: every method may be called from any thread, including from
// inside a task of this or another strand (no deadlock).
class WorkerPool::Strand : public std::enable_shared_from_this<Strand> {
 public:
  using Callback = absl::AnyInvocable<void()>;

  // Use WorkerPool::NewStrand() (Core is private to the pool).
  explicit Strand(std::shared_ptr<Core> core);
  ~Strand();

  Strand(const Strand&) = delete;
  Strand& operator=(const Strand&) = delete;

  // Queues `task` and returns the number of tasks queued in this strand
  // after the post, including `task` (a running task is not counted), so the
  // caller can apply backpressure. After the pool's Shutdown() the task is
  // destroyed unrun (outside any lock) and 0 is returned.
  size_t Post(Task task) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks queued and not yet started.
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

  // One-shot: runs `callback` once queued() <= n. If that already holds, it
  // runs at once on the calling thread, before this returns. Otherwise it
  // runs on a worker right after the task that brought the count down,
  // before the strand's next task and outside any lock. A later call
  // replaces (destroys unrun) a pending callback.
  void NotifyWhenAtMost(size_t n, Callback callback) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class WorkerPool;

  // Runs up to kMaxTasksPerTurn tasks (plus a due notify callback) on the
  // calling worker, which owns the strand. Returns true if the strand still
  // has tasks and must be put back in the run queue; false if it went idle.
  bool RunTurn(std::atomic<uint64_t>* tasks_run) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<Core> core_;

  mutable absl::Mutex mu_;
  // Tasks not yet started, in post order.
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  // True while the strand is in the run queue or owned by a worker.
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  // The pending NotifyWhenAtMost, if notify_ is non-empty.
  size_t notify_at_most_ ABSL_GUARDED_BY(mu_) = 0;
  Callback notify_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_CONCURRENT_WORKER_POOL_H_
