#include "tao/timer/timer_queue.h"

#include <cassert>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

namespace tao {
namespace {

TimerId MakeId(uint32_t slot, uint32_t generation) {
  return TimerId{(uint64_t{generation} << 32) | slot};
}

uint32_t SlotOf(TimerId id) { return static_cast<uint32_t>(id.value); }
uint32_t GenerationOf(TimerId id) {
  return static_cast<uint32_t>(id.value >> 32);
}

// The first deadline after `now` on the grid `deadline + n * interval`
// (n >= 1), and how many grid points strictly between were skipped.
// Saturates at the largest representable deadline.
int64_t NextPeriodicDeadline(int64_t deadline, int64_t interval, int64_t now,
                             uint64_t* skipped) {
  *skipped = 0;
  int64_t next;
  if (__builtin_add_overflow(deadline, interval, &next)) {
    return std::numeric_limits<int64_t>::max();
  }
  if (next > now) return next;
  // Late by k >= 1 whole intervals: skip them, run once at the next point.
  const int64_t k = (now - deadline) / interval;
  int64_t offset;
  if (__builtin_mul_overflow(k + 1, interval, &offset) ||
      __builtin_add_overflow(deadline, offset, &next)) {
    return std::numeric_limits<int64_t>::max();
  }
  *skipped = static_cast<uint64_t>(k);
  return next;
}

}  // namespace

TimerQueue::TimerQueue(const Clock* clock) : clock_(clock) {
  assert(clock_ != nullptr);
}

TimerQueue::~TimerQueue() {
  assert(!running_);
  // Free the slots one by one, so a callback's destructor that calls Cancel()
  // on this queue still sees a consistent queue.
  heap_.clear();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state != State::kFree) {
      Callback dead = FreeSlot(static_cast<uint32_t>(i));
    }
  }
}

TimerId TimerQueue::Add(MonoTime deadline, absl::Duration interval,
                        Callback cb) {
  if (!cb) return TimerId{};
  const uint32_t index = AllocateSlot();
  Slot& slot = slots_[index];
  slot.cb = std::move(cb);
  // ToInt64Nanoseconds saturates, so InfiniteDuration never repeats.
  slot.interval_ns =
      interval > absl::ZeroDuration() ? absl::ToInt64Nanoseconds(interval) : 0;
  slot.state = State::kInHeap;
  ++live_count_;
  const TimerId id = MakeId(index, slot.generation);
  HeapPush(ToNanos(deadline), index);
  return id;
}

bool TimerQueue::Cancel(TimerId id) {
  Slot* slot = Lookup(id);
  if (slot == nullptr) return false;
  switch (slot->state) {
    case State::kInHeap:
      HeapRemove(slot->link);
      break;
    case State::kExpired:  // RunExpired() skips it: the generation changes.
    case State::kRunning:  // RunExpired() does not re-arm it, same reason.
      break;
    case State::kFree:
      return false;
  }
  // Destroyed at return, once the queue is consistent: its destructor may
  // call back into the queue.
  Callback dead = FreeSlot(SlotOf(id));
  return true;
}

size_t TimerQueue::RunExpired() {
  assert(!running_ && "RunExpired() is not re-entrant");
  running_ = true;
  const int64_t now = ToNanos(clock_->Now());

  // Take the whole due batch out first, so timers added by the callbacks
  // (even if due) wait for the next call instead of looping here forever.
  batch_.clear();
  while (!heap_.empty() && heap_.front().deadline_ns <= now) {
    const HeapEntry top = heap_.front();
    HeapRemove(0);
    Slot& slot = slots_[top.slot];
    slot.state = State::kExpired;
    batch_.push_back({MakeId(top.slot, slot.generation), top.deadline_ns});
  }

  size_t ran = 0;
  // Index loop: batch_ is not touched by Add()/Cancel(), but slots_ may be
  // reallocated by a callback's Add(), so no Slot reference is held across a
  // callback.
  for (size_t i = 0; i < batch_.size(); ++i) {
    const Expired expired = batch_[i];
    Slot* slot = Lookup(expired.id);
    if (slot == nullptr) continue;  // Cancelled by an earlier callback.
    const uint32_t index = SlotOf(expired.id);
    if (slot->interval_ns == 0) {
      // One-shot: the id is stale before the callback runs.
      Callback cb = FreeSlot(index);
      ++ran;
      cb();
      continue;
    }
    slot->state = State::kRunning;
    const int64_t interval = slot->interval_ns;
    Callback cb = std::move(slot->cb);
    ++ran;
    cb();
    slot = Lookup(expired.id);
    if (slot == nullptr) continue;  // Cancelled itself (or by a destructor).
    uint64_t skipped = 0;
    const int64_t next =
        NextPeriodicDeadline(expired.deadline_ns, interval, now, &skipped);
    missed_ticks_ += skipped;
    slot->cb = std::move(cb);
    slot->state = State::kInHeap;
    HeapPush(next, index);
  }
  batch_.clear();
  running_ = false;
  return ran;
}

std::optional<MonoTime> TimerQueue::NextDeadline() const {
  if (heap_.empty()) return std::nullopt;
  return FromNanos(heap_.front().deadline_ns);
}

TimerQueue::Slot* TimerQueue::Lookup(TimerId id) {
  const uint32_t index = SlotOf(id);
  if (!id.valid() || index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  if (slot.generation != GenerationOf(id) || slot.state == State::kFree) {
    return nullptr;
  }
  return &slot;
}

uint32_t TimerQueue::AllocateSlot() {
  if (free_head_ != kNone) {
    const uint32_t index = free_head_;
    free_head_ = slots_[index].link;
    return index;
  }
  assert(slots_.size() < kNone);
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

TimerQueue::Callback TimerQueue::FreeSlot(uint32_t index) {
  Slot& slot = slots_[index];
  Callback cb = std::move(slot.cb);
  slot.cb = nullptr;
  if (++slot.generation == 0) slot.generation = 1;
  slot.state = State::kFree;
  slot.link = free_head_;
  free_head_ = index;
  --live_count_;
  return cb;
}

void TimerQueue::HeapPush(int64_t deadline_ns, uint32_t slot) {
  heap_.push_back(HeapEntry{deadline_ns, next_seq_++, slot});
  slots_[slot].link = static_cast<uint32_t>(heap_.size() - 1);
  SiftUp(heap_.size() - 1);
}

void TimerQueue::HeapRemove(size_t index) {
  const size_t last = heap_.size() - 1;
  if (index == last) {
    heap_.pop_back();
    return;
  }
  const HeapEntry moved = heap_[last];
  heap_.pop_back();
  Place(index, moved);
  if (index > 0 && Before(moved, heap_[(index - 1) / kArity])) {
    SiftUp(index);
  } else {
    SiftDown(index);
  }
}

void TimerQueue::SiftUp(size_t index) {
  const HeapEntry entry = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / kArity;
    if (!Before(entry, heap_[parent])) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, entry);
}

void TimerQueue::SiftDown(size_t index) {
  const HeapEntry entry = heap_[index];
  const size_t size = heap_.size();
  while (true) {
    const size_t first = index * kArity + 1;
    if (first >= size) break;
    const size_t end = first + kArity < size ? first + kArity : size;
    size_t best = first;
    for (size_t child = first + 1; child < end; ++child) {
      if (Before(heap_[child], heap_[best])) best = child;
    }
    if (!Before(heap_[best], entry)) break;
    Place(index, heap_[best]);
    index = best;
  }
  Place(index, entry);
}

void TimerQueue::Place(size_t index, const HeapEntry& entry) {
  heap_[index] = entry;
  slots_[entry.slot].link = static_cast<uint32_t>(index);
}

}  // namespace tao
