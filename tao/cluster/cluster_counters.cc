#include "tao/cluster/cluster_counters.h"

namespace tao {

void ClusterCounters::CountDropped(DropReason reason) {
  switch (reason) {
    case DropReason::kDisconnected:
      Add(dropped_disconnected_);
      return;
    case DropReason::kBacklog:
      Add(dropped_backlog_);
      return;
    case DropReason::kRedisError:
      Add(dropped_redis_error_);
      return;
    case DropReason::kBadPayload:
      Add(dropped_bad_payload_);
      return;
    case DropReason::kStopped:
      Add(dropped_stopped_);
      return;
  }
}

bool ClusterCounters::TryReserve(size_t n, size_t limit) {
  size_t pending = pending_bytes_.load(std::memory_order_relaxed);
  do {
    if (pending + n > limit) return false;
  } while (!pending_bytes_.compare_exchange_weak(pending, pending + n,
                                                 std::memory_order_relaxed));
  return true;
}

ClusterBridgeStats ClusterCounters::Snapshot(uint64_t reconnects) const {
  ClusterBridgeStats s;
  s.published = published_.load(std::memory_order_relaxed);
  s.received = received_.load(std::memory_order_relaxed);
  s.own_echoes = own_echoes_.load(std::memory_order_relaxed);
  s.dropped_disconnected =
      dropped_disconnected_.load(std::memory_order_relaxed);
  s.dropped_backlog = dropped_backlog_.load(std::memory_order_relaxed);
  s.dropped_redis_error = dropped_redis_error_.load(std::memory_order_relaxed);
  s.dropped_bad_payload = dropped_bad_payload_.load(std::memory_order_relaxed);
  s.dropped_stopped = dropped_stopped_.load(std::memory_order_relaxed);
  s.dropped = s.dropped_disconnected + s.dropped_backlog +
              s.dropped_redis_error + s.dropped_bad_payload + s.dropped_stopped;
  s.reconnects = reconnects;
  s.pending_bytes = pending_bytes_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tao
