// Micro benchmarks of tao::TimerQueue add/cancel at a given population of
// pending timers, against the two classic alternatives: an ordered
// std::multimap (muduo's approach) and a std::priority_queue with lazy
// deletion.
//
// Every benchmark keeps exactly N timers pending: each iteration adds a timer
// with a random deadline and cancels the oldest pending one (the pattern of
// per-connection timeouts being pushed back), so cancels hit random positions
// of the structure rather than the timer just added.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "tao/base/clock.h"
#include "tao/timer/timer_queue.h"
#include "tao/timer/timing_wheel.h"

namespace tao {
namespace {

using Callback = absl::AnyInvocable<void()>;

constexpr size_t kDeadlineTableSize = size_t{1} << 16;

// Random deadline offsets, in nanoseconds, up to one hour.
const std::vector<int64_t>& DeadlineOffsets() {
  static const std::vector<int64_t>* const offsets = [] {
    auto* v = new std::vector<int64_t>(kDeadlineTableSize);
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<int64_t> dist(
        1, absl::ToInt64Nanoseconds(absl::Hours(1)));
    for (int64_t& offset : *v) offset = dist(rng);
    return v;
  }();
  return *offsets;
}

// The i-th deadline: a table entry plus `i` nanoseconds, so that prefilled
// deadlines are (almost always) distinct.
MonoTime Deadline(MonoTime base, size_t i) {
  return base + std::chrono::nanoseconds(
                    DeadlineOffsets()[i & (kDeadlineTableSize - 1)] +
                    static_cast<int64_t>(i));
}

// Runs the add-newest/cancel-oldest loop over any queue with
// `Handle Add(MonoTime, Callback)` and `void Cancel(Handle)`.
template <typename Queue>
void AddCancelLoop(benchmark::State& state, Queue& queue) {
  const size_t population = static_cast<size_t>(state.range(0));
  const MonoTime base = MonoTime() + std::chrono::hours(1);
  int64_t fired = 0;  // The callbacks never run; they capture one pointer.
  std::vector<typename Queue::Handle> ring;
  ring.reserve(population);
  for (size_t i = 0; i < population; ++i) {
    ring.push_back(queue.Add(Deadline(base, i), [&fired] { ++fired; }));
  }
  size_t i = population;
  size_t oldest = 0;
  for (auto _ : state) {
    auto handle = queue.Add(Deadline(base, i++), [&fired] { ++fired; });
    queue.Cancel(ring[oldest]);
    ring[oldest] = handle;
    if (++oldest == population) oldest = 0;
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations());  // Add+cancel pairs.
}

// tao::TimerQueue behind the common interface.
class TaoQueue {
 public:
  using Handle = TimerId;
  Handle Add(MonoTime deadline, Callback cb) {
    return queue_.Add(deadline, absl::ZeroDuration(), std::move(cb));
  }
  void Cancel(Handle id) { benchmark::DoNotOptimize(queue_.Cancel(id)); }

 private:
  FakeClock clock_;
  TimerQueue queue_{&clock_};
};

// An ordered multimap: one node allocation per timer, erase by iterator.
class MultimapQueue {
 public:
  using Map = std::multimap<MonoTime, Callback>;
  using Handle = Map::iterator;
  Handle Add(MonoTime deadline, Callback cb) {
    return timers_.emplace(deadline, std::move(cb));
  }
  void Cancel(Handle it) { timers_.erase(it); }

 private:
  Map timers_;
};

// A binary heap that cannot remove from the middle: cancel only forgets the
// callback, and the dead heap entry is dropped when it reaches the top or
// when dead entries outnumber live ones (compaction, O(n)).
class LazyPriorityQueue {
 public:
  using Handle = uint64_t;
  Handle Add(MonoTime deadline, Callback cb) {
    const uint64_t id = next_id_++;
    callbacks_.emplace(id, std::move(cb));
    heap_.push(Entry{deadline, id});
    return id;
  }
  void Cancel(Handle id) {
    callbacks_.erase(id);
    if (heap_.size() > 2 * callbacks_.size() + 64) {
      heap_.RemoveIf(
          [this](const Entry& e) { return !callbacks_.contains(e.id); });
    }
  }

 private:
  struct Entry {
    MonoTime deadline;
    uint64_t id;
    bool operator>(const Entry& other) const {
      return deadline > other.deadline ||
             (deadline == other.deadline && id > other.id);
    }
  };
  // std::priority_queue exposes its container to subclasses only.
  struct Heap
      : std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> {
    template <typename Pred>
    void RemoveIf(Pred pred) {
      c.erase(std::remove_if(c.begin(), c.end(), pred), c.end());
      std::make_heap(c.begin(), c.end(), comp);
    }
  };

  Heap heap_;
  absl::flat_hash_map<uint64_t, Callback> callbacks_;
  uint64_t next_id_ = 1;
};

// tao::TimerQueue: 4-ary heap with back-pointers, O(log n) eager cancel.
void BM_TimerQueue_AddCancel(benchmark::State& state) {
  TaoQueue queue;
  AddCancelLoop(state, queue);
}
BENCHMARK(BM_TimerQueue_AddCancel)->Arg(1000)->Arg(100000)->Arg(1000000);

// std::multimap<MonoTime, Callback>: node allocation per add.
void BM_Multimap_AddCancel(benchmark::State& state) {
  MultimapQueue queue;
  AddCancelLoop(state, queue);
}
BENCHMARK(BM_Multimap_AddCancel)->Arg(1000)->Arg(100000)->Arg(1000000);

// std::priority_queue + hash map of live callbacks, lazy deletion.
void BM_PriorityQueue_AddCancel(benchmark::State& state) {
  LazyPriorityQueue queue;
  AddCancelLoop(state, queue);
}
BENCHMARK(BM_PriorityQueue_AddCancel)->Arg(1000)->Arg(100000)->Arg(1000000);

}  // namespace
}  // namespace tao

namespace tao {
namespace {

// Refresh of one of N pending idle deadlines in a TimingWheel (what a
// connection's activity costs with a wheel): O(1) whatever N is.
void BM_TimingWheel_Refresh(benchmark::State& state) {
  const size_t population = static_cast<size_t>(state.range(0));
  FakeClock clock;
  TimingWheel wheel(&clock, absl::Milliseconds(100));
  std::vector<WheelTimerId> ids;
  ids.reserve(population);
  for (size_t i = 0; i < population; ++i) {
    ids.push_back(wheel.Add(absl::Seconds(15), [] {}));
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        wheel.Refresh(ids[i], absl::Seconds(15) + absl::Nanoseconds(i)));
    if (++i == population) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimingWheel_Refresh)->Arg(1000)->Arg(100000)->Arg(1000000);

// The same idle-deadline refresh in TimerQueue: a cancel plus an add.
void BM_TimerQueue_RefreshAsCancelAdd(benchmark::State& state) {
  const size_t population = static_cast<size_t>(state.range(0));
  FakeClock clock;
  TimerQueue queue(&clock);
  std::vector<TimerId> ids;
  ids.reserve(population);
  for (size_t i = 0; i < population; ++i) {
    ids.push_back(queue.Add(AddDuration(clock.Now(), absl::Seconds(15)),
                            absl::ZeroDuration(), [] {}));
  }
  size_t i = 0;
  for (auto _ : state) {
    queue.Cancel(ids[i]);
    ids[i] = queue.Add(
        AddDuration(clock.Now(), absl::Seconds(15) + absl::Nanoseconds(i)),
        absl::ZeroDuration(), [] {});
    if (++i == population) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerQueue_RefreshAsCancelAdd)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000);

}  // namespace
}  // namespace tao
