// A hash map sharded by key, safe to use from many threads at once.
//
// The map is split into N shards (a power of two, 16 by default). Each shard
// is an absl::Mutex guarding an absl::flat_hash_map, so threads touching keys
// in different shards never contend. Typical use is the server's
// net id -> connection table:
//
//   tao::ConcurrentMap<uint64_t, std::shared_ptr<Connection>> connections;
//   connections.Insert(id, conn);                       // any thread
//   if (auto conn = connections.Find(id)) (*conn)->Send(msg);
//   connections.Erase(id);
//
// Thread safety: every method may be called from any thread, concurrently.
// Each call locks at most one shard at a time; there is no global lock.
//
// Callbacks (`Visit`, `ForEach`) run while their shard's lock is held. They
// must not call back into the same map (that would deadlock on the shard
// lock, or, for another shard, risk lock-order inversion with a concurrent
// ForEach), and should be short: they block every other thread using that
// shard.
//
// Values are returned by copy (`Find`, `Values`) or moved out (`Extract`),
// never by reference, because a reference would outlive the shard lock. Use a
// cheap-to-copy V (a shared_ptr, an id) for large values.
//
// Values removed or replaced by `Insert`, `InsertOrAssign`, `Erase` and
// `Clear` are destroyed after the shard lock is released, so a value's
// destructor may use the map.
#ifndef TAO_CONCURRENT_CONCURRENT_MAP_H_
#define TAO_CONCURRENT_CONCURRENT_MAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/config.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "tao/base/cxx20.h"

namespace tao {

template <typename K, typename V, typename Hash = absl::Hash<K>,
          typename Eq = std::equal_to<K>>
class ConcurrentMap {
 public:
  // `shard_count` is rounded up to a power of two (0 becomes 1). More shards
  // mean less contention and more memory (one mutex and one table each).
  explicit ConcurrentMap(size_t shard_count = 16)
      : shard_bits_(Log2Ceil(shard_count)),
        shards_(new Shard[size_t{1} << shard_bits_]) {}

  ConcurrentMap(const ConcurrentMap&) = delete;
  ConcurrentMap& operator=(const ConcurrentMap&) = delete;

  // Inserts `key` -> `value` if `key` is absent and returns true. If `key` is
  // present, returns false and leaves the map unchanged (`value` is dropped).
  bool Insert(const K& key, V value) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    const bool inserted = shard.map.try_emplace(key, std::move(value)).second;
    if (inserted) shard.UpdateCount();
    return inserted;
  }

  // Inserts `key` -> `value`, replacing any previous value.
  void InsertOrAssign(const K& key, V value) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto [it, inserted] = shard.map.try_emplace(key, std::move(value));
    if (inserted) {
      shard.UpdateCount();
    } else {
      // The old value ends up in `value`, destroyed after the lock is freed.
      using std::swap;
      swap(it->second, value);
    }
  }

  // Removes `key`. Returns true if it was present.
  bool Erase(const K& key) {
    typename Map::node_type node;  // Destroyed after the lock is released.
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    node = shard.map.extract(key);
    if (node.empty()) return false;
    shard.UpdateCount();
    return true;
  }

  // Removes `key` and returns its value, or nullopt if it was absent.
  std::optional<V> Extract(const K& key) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto node = shard.map.extract(key);
    if (node.empty()) return std::nullopt;
    shard.UpdateCount();
    return std::optional<V>(std::move(node.mapped()));
  }

  // Returns a copy of the value of `key`, or nullopt if it is absent.
  std::optional<V> Find(const K& key) const {
    const Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return std::nullopt;
    return it->second;
  }

  bool Contains(const K& key) const {
    const Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    return shard.map.contains(key);
  }

  // Calls `fn(V&)` on the value of `key` under the shard lock, so the value
  // can be read and modified atomically. Returns false (without calling `fn`)
  // if `key` is absent. `fn` must not call into this map.
  template <typename F>
  bool Visit(const K& key, F&& fn) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return false;
    std::forward<F>(fn)(it->second);
    return true;
  }

  // Calls `fn(const K&, const V&)` on every entry, shard by shard, each shard
  // under its lock. Not a snapshot of the whole map: entries inserted or
  // erased in other shards during the walk may or may not be seen; each entry
  // present for the whole walk is visited exactly once. `fn` must not call
  // into this map.
  template <typename F>
  void ForEach(F&& fn) const {
    for (size_t i = 0; i < shard_count(); ++i) {
      const Shard& shard = shards_[i];
      absl::MutexLock lock(&shard.mu);
      for (const auto& [key, value] : shard.map) fn(key, value);
    }
  }

  // Copies of all values, shard by shard (same consistency as ForEach).
  std::vector<V> Values() const {
    std::vector<V> values;
    values.reserve(size());
    ForEach([&values](const K&, const V& value) { values.push_back(value); });
    return values;
  }

  // Number of entries: the sum of per-shard atomic counters, each stored
  // (relaxed) under its shard lock after every insert or erase. Exact
  // whenever no modification is in flight; while other threads modify the
  // map, each shard contributes a count it held recently. Never locks; costs
  // one load per shard.
  //
  // Per-shard counters rather than one map-wide atomic: a single counter
  // would be written by every insert and erase on every thread, making one
  // cache line bounce between all writers and undoing the sharding.
  size_t size() const {
    size_t total = 0;
    for (size_t i = 0; i < shard_count(); ++i) {
      total += shards_[i].count.load(std::memory_order_relaxed);
    }
    return total;
  }
  bool empty() const { return size() == 0; }

  // Removes every entry, shard by shard (entries inserted into an
  // already-cleared shard during the call survive).
  void Clear() {
    for (size_t i = 0; i < shard_count(); ++i) {
      Map doomed;  // Destroyed after the lock is released.
      Shard& shard = shards_[i];
      {
        absl::MutexLock lock(&shard.mu);
        doomed.swap(shard.map);
        shard.UpdateCount();
      }
    }
  }

  size_t shard_count() const { return size_t{1} << shard_bits_; }

 private:
  using Map = absl::flat_hash_map<K, V, Hash, Eq>;

  // Cache-line aligned so that threads locking neighbouring shards do not
  // share a line.
  struct alignas(ABSL_CACHELINE_SIZE) Shard {
    // Publishes map.size() for lock-free size().
    void UpdateCount() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      count.store(map.size(), std::memory_order_relaxed);
    }

    mutable absl::Mutex mu;
    Map map ABSL_GUARDED_BY(mu);
    // Written only under `mu`, read without it.
    std::atomic<size_t> count{0};
  };

  static int Log2Ceil(size_t n) {
    int bits = 0;
    while ((size_t{1} << bits) < n) ++bits;
    return bits;
  }

  // The shard index is the top bits of the key's hash multiplied by a 64-bit
  // odd constant (Fibonacci hashing), not the hash's own low bits: the tables
  // hash keys with the same Hash, and using its low bits would give every key
  // of a shard equal low bits (which flat_hash_map uses for its control
  // bytes), making probes collide. The multiply also spreads weak hashes
  // (e.g. identity) over the shards.
  size_t ShardIndex(const K& key) const {
    if (shard_bits_ == 0) return 0;
    const uint64_t h = static_cast<uint64_t>(Hash{}(key));
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ull) >>
                               (64 - shard_bits_));
  }

  Shard& ShardFor(const K& key) { return shards_[ShardIndex(key)]; }
  const Shard& ShardFor(const K& key) const { return shards_[ShardIndex(key)]; }

  const int shard_bits_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace tao

#endif  // TAO_CONCURRENT_CONCURRENT_MAP_H_
