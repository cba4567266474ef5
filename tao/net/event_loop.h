// EventLoop: the reactor. One thread, one epoll set, one eventfd for
// cross-thread wake-ups and one timerfd-driven TimerQueue.
//
//   EventLoop loop;                        // binds to the calling thread
//   loop.RunAfter(absl::Seconds(1), [&] { loop.Quit(); });
//   loop.Run();                            // returns after Quit()
//
// Thread safety:
// - The loop belongs to the thread that constructed it; Run() must be called
//   there. At most one EventLoop per thread.
// - RunInLoop, QueueInLoop, RunAt, RunAfter, RunEvery, Cancel, Quit and
//   IsInLoopThread are safe from any thread.
// - UpdateChannel/RemoveChannel (used by Channel) are loop-thread only.
// Functors queued from other threads run in FIFO order; a batch of them costs
// one eventfd write however many are queued.
#ifndef TAO_NET_EVENT_LOOP_H_
#define TAO_NET_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/base/clock.h"
#include "tao/net/channel.h"
#include "tao/net/poller.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class EventLoop {
 public:
  using Functor = absl::AnyInvocable<void()>;

  // `clock` drives the timers; it must outlive the loop.
  explicit EventLoop(const Clock* clock = Clock::Real());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Quit(). REQUIRES: the constructing thread.
  void Run();
  // Makes Run() return after the current iteration. Any thread.
  void Quit();

  // Runs `fn` now when called on the loop thread, else queues it.
  void RunInLoop(Functor fn);
  // Always queues `fn`; it runs after the current batch of I/O events.
  void QueueInLoop(Functor fn);

  // Timers. Callbacks run on the loop thread. Ids are unique for the loop's
  // life, so a stale id never cancels another timer; cancelling a fired,
  // cancelled or unknown id is a no-op. On the loop thread, a cancelled timer
  // never runs afterwards, even if it was due in the same batch.
  TimerId RunAt(MonoTime deadline, Functor fn);
  TimerId RunAfter(absl::Duration delay, Functor fn);
  // Fires at now+interval, now+2*interval, ... (no drift; missed ticks are
  // skipped, not burst).
  TimerId RunEvery(absl::Duration interval, Functor fn);
  void Cancel(TimerId id);

  bool IsInLoopThread() const {
    return thread_id_ == std::this_thread::get_id();
  }
  void AssertInLoopThread() const;

  const Clock* clock() const { return clock_; }
  MonoTime Now() const { return clock_->Now(); }

  // Loop-thread only; used by Channel.
  void UpdateChannel(Channel* channel);
  void RemoveChannel(Channel* channel);

  // Number of functors queued and not yet run (approximate; any thread).
  size_t queue_size() const;

  // Bytes the connections of this loop read and wrote, for metrics. Counted
  // by the loop thread alone (CountRead/CountWritten, loop thread only: a
  // plain load and store, no atomic read-modify-write), read from any.
  void CountRead(uint64_t n) { AddOnOwnerThread(bytes_read_, n); }
  void CountWritten(uint64_t n) { AddOnOwnerThread(bytes_written_, n); }
  uint64_t bytes_read() const {
    return bytes_read_.load(std::memory_order_relaxed);
  }
  uint64_t bytes_written() const {
    return bytes_written_.load(std::memory_order_relaxed);
  }
  // `counter += n` for a counter only one thread writes.
  static void AddOnOwnerThread(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n,
                  std::memory_order_relaxed);
  }

 private:
  TimerId AddTimer(MonoTime deadline, absl::Duration interval, Functor fn);
  void AddTimerInLoop(uint64_t id, MonoTime deadline, absl::Duration interval,
                      Functor fn);
  void CancelInLoop(uint64_t id);
  void ArmTimerFd();
  void HandleTimerFd();
  void HandleWakeup();
  void Wakeup();
  void RunPendingFunctors();

  const Clock* const clock_;
  const std::thread::id thread_id_;
  std::atomic<bool> quit_{false};
  std::unique_ptr<Poller> poller_;
  std::vector<Poller::ReadyEvent> ready_;

  const int wakeup_fd_;
  // The loop's own channels: the wake-up eventfd and the timerfd.
  struct ReadHandler final : Channel::Handler {
    ReadHandler(void (EventLoop::*handle)(), EventLoop* loop)
        : handle(handle), loop(loop) {}
    void OnReadable() override { (loop->*handle)(); }
    void (EventLoop::*handle)();
    EventLoop* loop;
  };
  ReadHandler wakeup_handler_{&EventLoop::HandleWakeup, this};
  ReadHandler timer_handler_{&EventLoop::HandleTimerFd, this};
  std::unique_ptr<Channel> wakeup_channel_;

  // Timers: loop-level ids map to the queue's ids (loop thread only).
  const int timer_fd_;
  std::unique_ptr<Channel> timer_channel_;
  TimerQueue timers_;
  absl::flat_hash_map<uint64_t, TimerId> timer_ids_;
  std::atomic<uint64_t> next_timer_id_{1};
  bool timer_armed_ = false;
  MonoTime armed_deadline_{};

  mutable absl::Mutex mu_;
  std::vector<Functor> pending_ ABSL_GUARDED_BY(mu_);
  // True from the moment a wake-up is owed until the loop drains pending_.
  bool wakeup_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool running_functors_ = false;  // loop thread only
  // The functors being run (loop thread only); swapped with pending_ so
  // both keep their capacity.
  static constexpr size_t kMaxRetainedFunctors = 1024;
  std::vector<Functor> running_;

  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_written_{0};
};

}  // namespace tao

#endif  // TAO_NET_EVENT_LOOP_H_
