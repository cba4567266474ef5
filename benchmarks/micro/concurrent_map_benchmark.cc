// Micro benchmarks of tao::ConcurrentMap against one absl::Mutex around one
// absl::flat_hash_map, single-threaded and with two threads.
#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tao/concurrent/concurrent_map.h"

namespace tao {
namespace {

constexpr uint64_t kKeys = uint64_t{1} << 16;  // Prefilled keys: 0..kKeys-1.

// The baseline: every operation takes the one lock.
class MutexFlatHashMap {
 public:
  std::optional<uint64_t> Find(uint64_t key) const {
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  bool Insert(uint64_t key, uint64_t value) {
    absl::MutexLock lock(&mu_);
    return map_.try_emplace(key, value).second;
  }
  bool Erase(uint64_t key) {
    absl::MutexLock lock(&mu_);
    return map_.erase(key) == 1;
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, uint64_t> map_ ABSL_GUARDED_BY(mu_);
};

// Shared by every thread of a benchmark run (built once, never destroyed).
template <typename Map>
Map& Prefilled() {
  static Map* const map = [] {
    Map* m = new Map();
    for (uint64_t k = 0; k < kKeys; ++k) m->Insert(k, k);
    return m;
  }();
  return *map;
}

// A cheap per-thread stream of pseudo-random keys (xorshift64).
class KeyStream {
 public:
  explicit KeyStream(int thread) : x_(0x9E3779B97F4A7C15ull * (thread + 1)) {}
  uint64_t Next() {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 7;
    x_ ^= x_ << 17;
    return x_ & (kKeys - 1);
  }

 private:
  uint64_t x_;
};

template <typename Map>
void FindLoop(benchmark::State& state) {
  const Map& map = Prefilled<Map>();
  KeyStream keys(state.thread_index());
  for (auto _ : state) {
    std::optional<uint64_t> value = map.Find(keys.Next());
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

// Each thread inserts and erases its own fresh keys, on top of kKeys others.
template <typename Map>
void InsertEraseLoop(benchmark::State& state) {
  Map& map = Prefilled<Map>();
  uint64_t key = (uint64_t{1} << 40) * (state.thread_index() + 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.Insert(key, key));
    benchmark::DoNotOptimize(map.Erase(key));
    ++key;
  }
  state.SetItemsProcessed(state.iterations());  // Insert+erase pairs.
}

// Find of a present key (random over 64Ki keys): one shard lock + lookup.
void BM_ConcurrentMap_Find(benchmark::State& state) {
  FindLoop<ConcurrentMap<uint64_t, uint64_t>>(state);
}
BENCHMARK(BM_ConcurrentMap_Find)->Threads(1)->Threads(2)->UseRealTime();

// Insert then erase of a fresh key.
void BM_ConcurrentMap_InsertErase(benchmark::State& state) {
  InsertEraseLoop<ConcurrentMap<uint64_t, uint64_t>>(state);
}
BENCHMARK(BM_ConcurrentMap_InsertErase)->Threads(1)->Threads(2)->UseRealTime();

// Baseline for BM_ConcurrentMap_Find: one mutex, one table.
void BM_MutexFlatHashMap_Find(benchmark::State& state) {
  FindLoop<MutexFlatHashMap>(state);
}
BENCHMARK(BM_MutexFlatHashMap_Find)->Threads(1)->Threads(2)->UseRealTime();

// Baseline for BM_ConcurrentMap_InsertErase.
void BM_MutexFlatHashMap_InsertErase(benchmark::State& state) {
  InsertEraseLoop<MutexFlatHashMap>(state);
}
BENCHMARK(BM_MutexFlatHashMap_InsertErase)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace tao
