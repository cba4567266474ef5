// TimingWheel: very many coarse deadlines (one idle/heartbeat check per
// connection) at O(1) per add, refresh and cancel.
//
//   tao::TimingWheel wheel(clock, absl::Milliseconds(100));
//   tao::WheelTimerId id = wheel.Add(absl::Seconds(15), [] { ... });
//   wheel.Refresh(id, absl::Seconds(15));   // activity: push it back
//   loop->RunEvery(wheel.tick(), [&] { wheel.Advance(); });
//
// A hashed wheel of `slots` buckets, each `tick` wide. An entry due in t
// ticks sits in bucket (cursor + t) mod slots with t / slots full rounds to
// wait; Advance() moves the cursor one bucket per elapsed tick and fires the
// entries whose rounds ran out. A deadline fires at most one tick late
// (never early): precision is the tick, which is what idle detection needs.
//
// Entries live in one slab with a free list and intrusive bucket links, so
// steady-state add/refresh/cancel allocate nothing (the callback's own
// storage aside).
//
// Thread safety: not thread-safe; owned by one EventLoop and used only on
// its thread. Callbacks run inside Advance() and may Add, Refresh and
// Cancel (themselves included); an entry cancelled or refreshed by an
// earlier callback of the same Advance() does not fire in it.
#ifndef TAO_TIMER_TIMING_WHEEL_H_
#define TAO_TIMER_TIMING_WHEEL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "tao/base/clock.h"

namespace tao {

// Generation-tagged handle: a stale id never touches a reused entry.
struct WheelTimerId {
  uint64_t value = 0;  // 0: invalid
  bool valid() const { return value != 0; }
  friend bool operator==(WheelTimerId, WheelTimerId) = default;
};

class TimingWheel {
 public:
  using Callback = absl::AnyInvocable<void()>;

  // REQUIRES: tick > 0, slots > 0. `clock` outlives the wheel.
  TimingWheel(const Clock* clock, absl::Duration tick, size_t slots = 512);
  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;

  // Fires `cb` once, `delay` from now (rounded up to whole ticks, at least
  // one). Invalid id (nothing scheduled) when `cb` is empty.
  WheelTimerId Add(absl::Duration delay, Callback cb);
  // Moves a pending entry to `delay` from now. False if not pending.
  bool Refresh(WheelTimerId id, absl::Duration delay);
  // Drops a pending entry and its callback. False if not pending.
  bool Cancel(WheelTimerId id);

  // Fires everything due up to clock->Now(); returns how many fired.
  size_t Advance();

  size_t size() const { return size_; }
  absl::Duration tick() const { return tick_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;

  struct Entry {
    Callback callback;
    uint64_t rounds = 0;
    uint32_t generation = 1;
    uint32_t bucket = kNil;  // kNil: free (or being fired)
    uint32_t prev = kNil;
    uint32_t next = kNil;  // also the free-list link
  };

  Entry* Lookup(WheelTimerId id);
  void Link(uint32_t index, absl::Duration delay);
  void Unlink(uint32_t index);
  void Release(uint32_t index);

  const Clock* const clock_;
  const absl::Duration tick_;
  std::vector<uint32_t> buckets_;  // head index per bucket
  std::vector<Entry> entries_;
  uint32_t free_head_ = kNil;
  size_t size_ = 0;
  size_t cursor_ = 0;              // the bucket of the last processed tick
  MonoTime cursor_time_;           // when that tick began
  std::vector<WheelTimerId> due_;  // reused by Advance()
};

}  // namespace tao

#endif  // TAO_TIMER_TIMING_WHEEL_H_
