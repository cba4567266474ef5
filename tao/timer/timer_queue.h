// The per-loop queue of pending timers: a pure data structure (no fds, no
// threads, no locks).
//
// The EventLoop owns one TimerQueue and a timerfd. After every change it arms
// the timerfd at `NextDeadline()`; when the timerfd fires it calls
// `RunExpired()`, which runs every timer due at that moment.
//
//   tao::TimerQueue timers(tao::Clock::Real());
//   tao::TimerId id = timers.Add(tao::AddDuration(now, absl::Seconds(1)),
//                                absl::Seconds(1), [] { Tick(); });
//   ... later, on the loop thread:
//   timers.RunExpired();
//   timers.Cancel(id);
//
// Thread safety: NOT thread-safe. Every call must be made on the owning loop
// thread; the EventLoop marshals Add/Cancel requests from other threads to
// it. Callbacks run inside RunExpired() on that thread, and may call Add()
// and Cancel() on this queue (including cancelling themselves, or a timer due
// in the same batch: that timer then does not run). They must not call
// RunExpired() (it is not re-entrant).
//
// Timing: a callback never runs before its deadline, and may run any time
// after it (the loop may be busy): a best-effort timer queue, like muduo's.
//
// Implementation: timers live in a slot vector recycled through a free list;
// a TimerId packs the slot index with the slot's generation, which changes
// every time the slot is freed, so a stale id never cancels a newer timer
// reusing the slot. Pending timers are ordered in a 4-ary min-heap of
// (deadline, sequence number, slot), and each slot records its heap position,
// so Cancel() removes the timer at once in O(log n). Eager removal (rather
// than lazy deletion) keeps memory proportional to the live timers under any
// add/cancel churn and keeps NextDeadline() exact, so the timerfd is never
// armed for a timer that was already cancelled. In steady state nothing is
// allocated per timer beyond what the callback itself needs (AnyInvocable
// stores small callables inline).
#ifndef TAO_TIMER_TIMER_QUEUE_H_
#define TAO_TIMER_TIMER_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "tao/base/clock.h"

namespace tao {

// Identifies one timer of one TimerQueue. Generation-tagged: once the timer
// has fired (one-shot) or been cancelled, its id is stale forever, even after
// its storage is reused by a new timer. A default-constructed id is invalid.
struct TimerId {
  uint64_t value = 0;  // 0 = invalid.
  bool valid() const { return value != 0; }
  friend bool operator==(TimerId, TimerId) = default;
};

class TimerQueue {
 public:
  using Callback = absl::AnyInvocable<void()>;

  // `clock` must outlive the queue.
  explicit TimerQueue(const Clock* clock);
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;
  ~TimerQueue();

  // Schedules `cb` to run at `deadline` (a deadline in the past runs at the
  // next RunExpired()).
  //
  // `interval == absl::ZeroDuration()` (or negative) makes a one-shot timer.
  // A positive interval makes a periodic timer: after each run the next
  // deadline is the previous deadline plus `interval` (no drift). If the loop
  // was late by k whole intervals, the callback runs once and the next k
  // ticks are skipped and counted in missed_ticks(): a late loop never gets a
  // burst of catch-up runs.
  //
  // A timer added by a callback during RunExpired() never runs in that same
  // RunExpired() call, even if already due: it runs in the next one (so a
  // callback re-adding itself "now" cannot loop forever).
  //
  // Returns an invalid TimerId (and schedules nothing) if `cb` is empty.
  TimerId Add(MonoTime deadline, absl::Duration interval, Callback cb);

  // Cancels a pending timer and destroys its callback. Returns true if the
  // timer was pending: not yet run (one-shot), or not cancelled (periodic,
  // even from inside its own callback: it is then not re-armed). Returns
  // false, doing nothing, for an id that fired (one-shot, including from its
  // own callback), was cancelled, is invalid or unknown.
  bool Cancel(TimerId id);

  // Runs every timer whose deadline is at or before the clock's Now(), read
  // once on entry, in deadline order, FIFO among equal deadlines (in Add()
  // order; a re-armed periodic timer counts as added when re-armed). Returns
  // the number of callbacks run.
  size_t RunExpired();

  // The earliest pending deadline, or nullopt if no timer is pending. Timers
  // already taken out for the batch in progress (when called from a
  // callback) are not considered.
  std::optional<MonoTime> NextDeadline() const;

  // Number of pending timers: one-shot timers not yet run and periodic timers
  // not yet cancelled.
  size_t size() const { return live_count_; }
  bool empty() const { return live_count_ == 0; }

  // Total periodic ticks skipped because the loop was late (see Add()).
  uint64_t missed_ticks() const { return missed_ticks_; }

 private:
  enum class State : uint8_t {
    kFree,     // On the free list.
    kInHeap,   // Pending; `heap_index` is valid.
    kExpired,  // Taken out of the heap for the current batch, not run yet.
    kRunning,  // A periodic timer whose callback is running.
  };

  struct Slot {
    Callback cb;
    int64_t interval_ns = 0;  // 0 = one-shot.
    uint32_t generation = 1;  // Never 0, so a TimerId is never 0.
    // kInHeap: position in heap_. kFree: next free slot (or kNone).
    uint32_t link = 0;
    State state = State::kFree;
  };

  struct HeapEntry {
    int64_t deadline_ns;
    uint64_t seq;  // Add() order, breaks deadline ties FIFO.
    uint32_t slot;
  };

  // A timer taken out of the heap for the batch in progress.
  struct Expired {
    TimerId id;
    int64_t deadline_ns;
  };

  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kArity = 4;

  static bool Before(const HeapEntry& a, const HeapEntry& b) {
    return a.deadline_ns < b.deadline_ns ||
           (a.deadline_ns == b.deadline_ns && a.seq < b.seq);
  }

  // Returns the slot of `id` if `id` is its current generation, else null.
  Slot* Lookup(TimerId id);

  uint32_t AllocateSlot();
  // Frees `slot` (bumping its generation) and returns its callback so the
  // caller destroys it once the queue is consistent again.
  Callback FreeSlot(uint32_t slot);

  void HeapPush(int64_t deadline_ns, uint32_t slot);
  void HeapRemove(size_t index);
  void SiftUp(size_t index);
  void SiftDown(size_t index);
  // Stores `entry` at heap_[index] and updates its slot's back-pointer.
  void Place(size_t index, const HeapEntry& entry);

  const Clock* const clock_;
  std::vector<Slot> slots_;
  std::vector<HeapEntry> heap_;
  std::vector<Expired> batch_;  // Reused by RunExpired() (capacity kept).
  uint32_t free_head_ = kNone;
  uint64_t next_seq_ = 0;
  size_t live_count_ = 0;
  uint64_t missed_ticks_ = 0;
  bool running_ = false;  // Inside RunExpired().
};

}  // namespace tao

#endif  // TAO_TIMER_TIMER_QUEUE_H_
