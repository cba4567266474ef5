#include "tao/base/clock.h"

#include <cassert>
#include <chrono>
#include <cstdint>
#include <limits>

namespace tao {
namespace {

class RealClock final : public Clock {
 public:
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

int64_t ToNanos(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

MonoTime FromNanos(int64_t nanos) {
  return MonoTime(std::chrono::duration_cast<MonoTime::duration>(
      std::chrono::nanoseconds(nanos)));
}

const Clock* Clock::Real() {
  // Leaked on purpose: usable from other static destructors and threads that
  // outlive main().
  static const Clock* const clock = new RealClock();
  return clock;
}

FakeClock::FakeClock() : nanos_(absl::ToInt64Nanoseconds(kEpoch)) {}

MonoTime FakeClock::Now() const {
  return FromNanos(nanos_.load(std::memory_order_acquire));
}

void FakeClock::Advance(absl::Duration d) {
  assert(d >= absl::ZeroDuration());
  if (d <= absl::ZeroDuration()) return;
  nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
}

void FakeClock::AdvanceTo(MonoTime t) {
  const int64_t target = ToNanos(t);
  int64_t current = nanos_.load(std::memory_order_acquire);
  assert(target >= current);
  // A compare-exchange loop rather than a store, so that racing AdvanceTo()
  // calls can never move time backwards.
  while (current < target && !nanos_.compare_exchange_weak(
                                 current, target, std::memory_order_acq_rel,
                                 std::memory_order_acquire)) {
  }
}

MonoTime AddDuration(MonoTime t, absl::Duration d) {
  if (d == absl::InfiniteDuration()) return MonoTime::max();
  if (d == -absl::InfiniteDuration()) return MonoTime::min();
  // ToInt64Nanoseconds saturates for finite durations beyond int64 too.
  const int64_t base = ToNanos(t);
  const int64_t delta = absl::ToInt64Nanoseconds(d);
  int64_t sum;
  if (__builtin_add_overflow(base, delta, &sum)) {
    return delta > 0 ? MonoTime::max() : MonoTime::min();
  }
  return FromNanos(sum);
}

absl::Duration ToDuration(std::chrono::steady_clock::duration d) {
  return absl::FromChrono(
      std::chrono::duration_cast<std::chrono::nanoseconds>(d));
}

}  // namespace tao
