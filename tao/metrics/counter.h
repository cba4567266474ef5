// Counter and Gauge: numbers a monitoring system scrapes, cheap enough for
// the hot path. A Counter only goes up; it is split into cache-line-sized
// shards, each thread adding to its own (relaxed atomics, no line shared
// between I/O loops), and Value() sums them on scrape. A Gauge is one
// atomic value set or moved by its owner.
//
//   tao::Counter& handled = *registry.AddCounter("app_orders_total", "...");
//   handled.Increment();
//
// Thread safety: every method is safe from any thread. Value() is not a
// snapshot of all shards at one instant, only of each shard.
#ifndef TAO_METRICS_COUNTER_H_
#define TAO_METRICS_COUNTER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tao {

// Shards per Counter (a power of two). Threads beyond it share shards,
// which stays correct (atomic adds) and only costs contention.
inline constexpr size_t kCounterShards = 16;

namespace metrics_internal {
size_t NextThreadShard();
}  // namespace metrics_internal

// The calling thread's shard, in [0, kCounterShards): threads are numbered
// in the order they first ask, so up to kCounterShards threads never share.
inline size_t ThisThreadShard() {
  thread_local const size_t shard = metrics_internal::NextThreadShard();
  return shard;
}

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment(uint64_t n = 1) {
    shards_[ThisThreadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kCounterShards> shards_;
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
