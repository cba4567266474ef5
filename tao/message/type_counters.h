// TypeCounters: messages handled per type id, for metrics. Made from a
// Registry once its handlers are registered (at the endpoint's Start); a
// type with a handler of its own gets a Counter, found by indexing for ids
// below kDenseTypes (one array load per message, no hashing) and by one
// hash lookup above; every other type (the catch-all's) shares one.
//
// Thread safety: Count from any thread (sharded counters); ForEach and
// total from any thread; construction is not concurrent with anything.
#ifndef TAO_MESSAGE_TYPE_COUNTERS_H_
#define TAO_MESSAGE_TYPE_COUNTERS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "tao/message/registry.h"
#include "tao/metrics/counter.h"

namespace tao {

class TypeCounters {
 public:
  // Type ids below this are looked up by index.
  static constexpr int32_t kDenseTypes = 1024;

  // `registry` may be null (nothing registered).
  explicit TypeCounters(const Registry* registry);
  TypeCounters(const TypeCounters&) = delete;
  TypeCounters& operator=(const TypeCounters&) = delete;

  void Count(int32_t type, uint64_t n = 1) {
    // Unsigned: negative ids fail the bounds check too.
    if (static_cast<uint32_t>(type) < dense_.size()) [[likely]] {
      if (Counter* counter = dense_[static_cast<uint32_t>(type)]) {
        counter->Increment(n);
        return;
      }
    }
    CountSlow(type, n);
  }

  // `fn(type, name, count)` per registered type (sorted by type).
  void ForEach(absl::FunctionRef<void(int32_t type, absl::string_view name,
                                      uint64_t count)>
                   fn) const;
  // Messages of types without a handler of their own (the catch-all's).
  uint64_t others() const { return others_.Value(); }
  uint64_t total() const;

 private:
  struct Entry {
    int32_t type;
    std::string name;
    Counter counter;
  };
  // Types past the dense range, and types without a counter.
  void CountSlow(int32_t type, uint64_t n);

  std::deque<Entry> entries_;    // sorted by type; stable addresses
  std::vector<Counter*> dense_;  // by type id; null: not registered
  absl::flat_hash_map<int32_t, Counter*> sparse_;
  Counter others_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_TYPE_COUNTERS_H_
