#include "tao/timer/timing_wheel.h"

#include <cassert>
#include <utility>

namespace tao {
namespace {

// Marks an entry unlinked from its bucket because it is due in this
// Advance(); kNil marks a free entry.
constexpr uint32_t kDue = UINT32_MAX - 1;

uint64_t Pack(uint32_t generation, uint32_t index) {
  return (uint64_t{generation} << 32) | index;
}

}  // namespace

TimingWheel::TimingWheel(const Clock* clock, absl::Duration tick, size_t slots)
    : clock_(clock),
      tick_(tick),
      buckets_(slots > 0 ? slots : 1, kNil),
      cursor_time_(clock->Now()) {
  assert(tick > absl::ZeroDuration());
}

TimingWheel::Entry* TimingWheel::Lookup(WheelTimerId id) {
  const uint32_t index = static_cast<uint32_t>(id.value);
  const uint32_t generation = static_cast<uint32_t>(id.value >> 32);
  if (!id.valid() || index >= entries_.size()) return nullptr;
  Entry& entry = entries_[index];
  if (entry.generation != generation || entry.bucket == kNil) return nullptr;
  return &entry;
}

WheelTimerId TimingWheel::Add(absl::Duration delay, Callback cb) {
  if (!cb) return WheelTimerId{};
  uint32_t index;
  if (free_head_ != kNil) {
    index = free_head_;
    free_head_ = entries_[index].next;
  } else {
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  entries_[index].callback = std::move(cb);
  Link(index, delay);
  ++size_;
  return WheelTimerId{Pack(entries_[index].generation, index)};
}

bool TimingWheel::Refresh(WheelTimerId id, absl::Duration delay) {
  Entry* entry = Lookup(id);
  if (entry == nullptr) return false;
  const uint32_t index = static_cast<uint32_t>(id.value);
  if (entry->bucket != kDue) Unlink(index);
  Link(index, delay);
  return true;
}

bool TimingWheel::Cancel(WheelTimerId id) {
  Entry* entry = Lookup(id);
  if (entry == nullptr) return false;
  const uint32_t index = static_cast<uint32_t>(id.value);
  if (entry->bucket != kDue) Unlink(index);
  Release(index);
  return true;
}

void TimingWheel::Link(uint32_t index, absl::Duration delay) {
  // Due `ticks` cursor steps from now: the first step whose start time is at
  // or after the deadline, so nothing ever fires early.
  const absl::Duration until = ToDuration(clock_->Now() - cursor_time_) +
                               std::max(delay, absl::ZeroDuration());
  int64_t ticks = absl::Ceil(until, tick_) / tick_;
  if (ticks < 1) ticks = 1;
  const uint64_t slots = buckets_.size();
  Entry& entry = entries_[index];
  entry.rounds = static_cast<uint64_t>(ticks - 1) / slots;
  entry.bucket = static_cast<uint32_t>((cursor_ + ticks) % slots);
  entry.prev = kNil;
  entry.next = buckets_[entry.bucket];
  if (entry.next != kNil) entries_[entry.next].prev = index;
  buckets_[entry.bucket] = index;
}

void TimingWheel::Unlink(uint32_t index) {
  Entry& entry = entries_[index];
  if (entry.prev != kNil) {
    entries_[entry.prev].next = entry.next;
  } else {
    buckets_[entry.bucket] = entry.next;
  }
  if (entry.next != kNil) entries_[entry.next].prev = entry.prev;
  entry.prev = entry.next = kNil;
}

void TimingWheel::Release(uint32_t index) {
  Entry& entry = entries_[index];
  entry.callback = nullptr;
  entry.bucket = kNil;
  ++entry.generation;
  if (entry.generation == 0) entry.generation = 1;  // ids are never 0
  entry.next = free_head_;
  free_head_ = index;
  --size_;
}

size_t TimingWheel::Advance() {
  const MonoTime now = clock_->Now();
  const auto tick = std::chrono::duration_cast<MonoTime::duration>(
      absl::ToChronoNanoseconds(tick_));
  while (now - cursor_time_ >= tick) {
    cursor_time_ += tick;
    cursor_ = (cursor_ + 1) % buckets_.size();
    for (uint32_t i = buckets_[cursor_]; i != kNil;) {
      Entry& entry = entries_[i];
      const uint32_t next = entry.next;
      if (entry.rounds > 0) {
        --entry.rounds;
      } else {
        Unlink(i);
        entry.bucket = kDue;
        due_.push_back(WheelTimerId{Pack(entry.generation, i)});
      }
      i = next;
    }
  }
  size_t fired = 0;
  // Index loop: callbacks may add entries (growing entries_) but never
  // touch due_.
  for (size_t k = 0; k < due_.size(); ++k) {
    Entry* entry = Lookup(due_[k]);
    if (entry == nullptr || entry->bucket != kDue) continue;  // cancelled
    Callback callback = std::move(entry->callback);
    Release(static_cast<uint32_t>(due_[k].value));
    callback();
    ++fired;
  }
  due_.clear();
  return fired;
}

}  // namespace tao
