// ClusterCounters: a ClusterBridge's numbers (what stats() and the metrics
// report), and the bytes it has queued toward Redis, which bound its memory.
// ClusterBridgeStats is a snapshot of them.
//
// Thread safety: every method from any thread (relaxed atomics).
#ifndef TAO_CLUSTER_CLUSTER_COUNTERS_H_
#define TAO_CLUSTER_CLUSTER_COUNTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tao {

struct ClusterBridgeStats {
  // PUBLISH commands Redis acknowledged (one per Publish*, whatever the
  // number of servers).
  uint64_t published = 0;
  // Messages from other servers handed to this server's members (once per
  // message, not per member; also when the group has no member here).
  uint64_t received = 0;
  // Sum of the dropped_* below: messages that did not reach (or might not
  // have reached) the other servers, and bad input from Redis.
  uint64_t dropped = 0;
  // Redis was not connected, or the connection ended before PUBLISH was
  // answered (pub/sub is at-most-once: never retried).
  uint64_t dropped_disconnected = 0;
  // Over ClusterBridgeOptions::max_pending_bytes.
  uint64_t dropped_backlog = 0;
  // Redis answered PUBLISH with an error.
  uint64_t dropped_redis_error = 0;
  // Received from Redis and malformed (channel, payload or frame): ignored.
  uint64_t dropped_bad_payload = 0;
  // Published after Stop (or never started): delivered locally only.
  uint64_t dropped_stopped = 0;
  // This bridge's own messages echoed back by Redis, ignored.
  uint64_t own_echoes = 0;
  // Connections to Redis re-established after a loss (both connections).
  uint64_t reconnects = 0;
  // Bytes queued toward Redis now (commands not yet answered).
  uint64_t pending_bytes = 0;
};

enum class DropReason {
  kDisconnected,
  kBacklog,
  kRedisError,
  kBadPayload,
  kStopped,
};

class ClusterCounters {
 public:
  void CountPublished() { Add(published_); }
  void CountReceived() { Add(received_); }
  void CountOwnEcho() { Add(own_echoes_); }
  void CountDropped(DropReason reason);

  // Reserves `n` bytes toward Redis; false (and nothing reserved) when that
  // would exceed `limit`.
  bool TryReserve(size_t n, size_t limit);
  void Release(size_t n) {
    pending_bytes_.fetch_sub(n, std::memory_order_relaxed);
  }

  // `reconnects` comes from the connections.
  ClusterBridgeStats Snapshot(uint64_t reconnects) const;

 private:
  static void Add(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> own_echoes_{0};
  std::atomic<uint64_t> dropped_disconnected_{0};
  std::atomic<uint64_t> dropped_backlog_{0};
  std::atomic<uint64_t> dropped_redis_error_{0};
  std::atomic<uint64_t> dropped_bad_payload_{0};
  std::atomic<uint64_t> dropped_stopped_{0};
  std::atomic<size_t> pending_bytes_{0};
};

}  // namespace tao

#endif  // TAO_CLUSTER_CLUSTER_COUNTERS_H_
