// Counter and Gauge: numbers a monitoring system scrapes, cheap enough for
// the hot path. A Counter only goes up; it is split into cache-line-sized
// shards, each thread adding to its own (no line shared between I/O loops,
// no locked instruction for the threads that own a shard), and Value()
// sums them on scrape. A Gauge is one
// atomic value set or moved by its owner.
//
//   tao::Counter& handled = *registry.AddCounter("app_orders_total", "...");
//   handled.Increment();
//
// Thread safety: every method is safe from any thread. Value() is not a
// snapshot of all shards at one instant, only of each shard.
#ifndef TAO_METRICS_COUNTER_H_
#define TAO_METRICS_COUNTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tao {

// Shards per Counter and Histogram: kOwnedShards that each belong to one
// thread, which adds with a plain load and store (no locked instruction on
// the hot path), and one more shared by every later thread (atomic adds).
inline constexpr size_t kOwnedShards = 16;
inline constexpr size_t kCounterShards = kOwnedShards + 1;
inline constexpr size_t kSharedShard = kOwnedShards;

namespace metrics_internal {
size_t NextThreadShard();
}  // namespace metrics_internal

// The calling thread's shard: the first kOwnedShards threads to ask own
// one each (for the rest of the process; shards are not reused when a
// thread exits), every later thread gets kSharedShard. A
// constant-initialized thread_local: no TLS guard or wrapper call on the hot
// path; only a thread's first call takes the slow branch.
inline size_t ThisThreadShard() {
  constexpr size_t kUnassigned = ~size_t{0};
  thread_local size_t shard = kUnassigned;
  if (shard == kUnassigned) [[unlikely]] {
    shard = metrics_internal::NextThreadShard();
  }
  return shard;
}

// `cell += n` from the calling thread's `shard` (ThisThreadShard()): a
// plain load and store when the thread owns the shard, else an atomic add.
template <typename T>
inline void AddToShard(std::atomic<T>& cell, size_t shard, T n) {
  if (shard < kOwnedShards) [[likely]] {
    cell.store(cell.load(std::memory_order_relaxed) + n,
               std::memory_order_relaxed);
  } else {
    cell.fetch_add(n, std::memory_order_relaxed);
  }
}

class Counter {
 public:
  Counter() : shards_(new Shard[kCounterShards]) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment(uint64_t n = 1) {
    const size_t shard = ThisThreadShard();
    AddToShard(shards_[shard].value, shard, n);
  }
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  // On the heap, so that a Counter (and whatever holds one, like a Server
  // on the stack) needs no more than the usual alignment.
  const std::unique_ptr<Shard[]> shards_;
};

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t delta) {
    value_.fetch_add(delta, std::memory_order_relaxed);
  }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace tao

#endif  // TAO_METRICS_COUNTER_H_
