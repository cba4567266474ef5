#include "tao/metrics/counter.h"

namespace tao {
namespace metrics_internal {

size_t NextThreadShard() {
  static std::atomic<size_t> next{0};
  const size_t n = next.fetch_add(1, std::memory_order_relaxed);
  return n < kOwnedShards ? n : kSharedShard;
}

}  // namespace metrics_internal

uint64_t Counter::Value() const {
  uint64_t sum = 0;
  for (size_t i = 0; i < kCounterShards; ++i) {
    sum += shards_[i].value.load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace tao
