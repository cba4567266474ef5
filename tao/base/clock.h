// Monotonic time for timers, injectable in tests.
//
// Everything in tao that schedules work (TimerQueue, the timing wheel,
// heartbeats) reads time through a `const Clock*`. Production code passes
// `Clock::Real()`, a steady clock that wall-clock jumps (NTP, `date -s`) never
// move; tests pass a `FakeClock` and advance it by hand, so they run in
// microseconds and are deterministic.
//
//   tao::FakeClock clock;
//   tao::TimerQueue timers(&clock);
//   timers.Add(tao::AddDuration(clock.Now(), absl::Seconds(5)),
//              absl::ZeroDuration(), [] { ... });
//   clock.Advance(absl::Seconds(5));
//   timers.RunExpired();  // runs the callback
#ifndef TAO_BASE_CLOCK_H_
#define TAO_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/time/time.h"
#include "tao/base/cxx20.h"

namespace tao {

// A point on the monotonic clock. Only differences between two MonoTimes
// mean anything; the epoch is unspecified (boot time on Linux).
using MonoTime = std::chrono::steady_clock::time_point;

// Source of monotonic time.
//
// Thread safety: `Now()` may be called from any thread, concurrently, on every
// implementation.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current time. Never decreases between two calls (on any thread, if
  // the calls are ordered by happens-before).
  virtual MonoTime Now() const = 0;

  // The process-wide real clock: std::chrono::steady_clock
  // (CLOCK_MONOTONIC), never affected by wall-clock jumps. Never null, never
  // destroyed.
  static const Clock* Real();
};

// A clock that moves only when told to. Starts at a fixed non-zero epoch
// (`kEpoch` after the steady-clock epoch), so a default-constructed MonoTime
// is always in its past.
//
// Thread safety: every method may be called from any thread (the time is one
// atomic nanosecond counter). Typical use is one test thread advancing it
// while code under test reads it.
class FakeClock final : public Clock {
 public:
  // Where every FakeClock starts, measured from the steady-clock epoch.
  static constexpr absl::Duration kEpoch = absl::Hours(1);

  FakeClock();
  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  MonoTime Now() const override;

  // Moves time forward by `d`.
  // REQUIRES: d >= absl::ZeroDuration() (a negative `d` is ignored).
  void Advance(absl::Duration d);

  // Moves time forward to `t`.
  // REQUIRES: t >= Now() (an earlier `t` is ignored: time never goes back).
  void AdvanceTo(MonoTime t);

 private:
  // Nanoseconds since the steady-clock epoch.
  std::atomic<int64_t> nanos_;
};

// `t + d`, saturating at MonoTime::min()/max() (so `absl::InfiniteDuration()`
// gives "never").
MonoTime AddDuration(MonoTime t, absl::Duration d);

// Converts a steady-clock duration (e.g. the difference of two MonoTimes)
// to an absl::Duration.
absl::Duration ToDuration(std::chrono::steady_clock::duration d);

// A MonoTime as nanoseconds since the steady clock's epoch and back, for
// keeping times in std::atomic<int64_t>.
int64_t ToNanos(MonoTime t);
MonoTime FromNanos(int64_t nanos);

// Same as AddDuration. Neither argument type lives in namespace tao, so
// argument-dependent lookup does not find this operator: it works in code
// inside namespace tao (unless a nearer operator+ hides it) or after
// `using tao::operator+;`. Prefer AddDuration outside namespace tao.
inline MonoTime operator+(MonoTime t, absl::Duration d) {
  return AddDuration(t, d);
}

}  // namespace tao

#endif  // TAO_BASE_CLOCK_H_
