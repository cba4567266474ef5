// ClusterBridge: one room across many tao servers. Attached to one message
// Server, it delivers a group's (or everyone's) messages to this server's
// members at once and PUBLISHes them once to Redis; the bridges of the other
// servers receive them from their subscription and deliver the same frame
// bytes to their own members.
//
//   tao::Server server(options, &registry);
//   ... server.Listen(address); server.Start();
//   tao::ClusterBridge bridge(server, {.redis_address = "127.0.0.1:6379"});
//   absl::Status started = bridge.Start();      // after server.Start()
//   registry handler: (void)bridge.PublishToGroup(room, message);
//   ...
//   server.Stop(); bridge.Stop(); server.Join();  // Stop before Join
//
// Redis layout (channels.h, payload.h): a message for group G goes to the
// channel <prefix>:group:G, a broadcast to <prefix>:all; each bridge
// SUBSCRIBEs to the second and PSUBSCRIBEs to <prefix>:group:*. The payload
// is a version byte, the publishing bridge's random 64-bit id and the frame
// as this server's codec encoded it (every bridged server must use the same
// codec). Pub/sub sends a message back to its publisher too; the publisher
// ignores copies with its own id, so every member connection, local or
// remote, gets each message once.
//
// Failure semantics (Redis pub/sub is at-most-once):
// - Local delivery never depends on Redis: it happens in the Publish* call.
// - Redis down or unreachable: remote delivery stops; every message
//   published meanwhile is counted in stats().dropped (dropped_disconnected)
//   and never retried, also those queued whose connection ended before Redis
//   answered (they may or may not have reached the others). Messages other
//   servers published while this bridge's subscription was down are lost
//   for this server's members. The bridge reconnects both connections with
//   exponential backoff and jitter (initial_backoff .. max_backoff) and
//   subscribes again; remote delivery resumes without restarting anything.
// - Slow Redis: at most max_pending_bytes of unanswered PUBLISHes are held;
//   beyond that messages are dropped (dropped_backlog), so memory is
//   bounded.
// - Malformed messages from Redis (foreign publishers, other versions) are
//   ignored and counted (dropped_bad_payload).
//
// Metrics on server.metrics(): tao_cluster_published_total,
// tao_cluster_received_total, tao_cluster_dropped_total{reason},
// tao_cluster_reconnects_total, tao_cluster_connected (1 when connected()),
// tao_cluster_pending_bytes.
//
// Threads: the bridge's Redis connections run on the server's first I/O
// loop (hiredis's async API driven by that loop's epoll: no thread of its
// own, no blocking call). Start, Stop and the destructor from a controlling
// thread (or that loop), never from a Redis callback; Stop must come before
// server.Join() (the loops end there), and Start after server.Start().
// Publish*, connected() and stats() are safe from any thread, handlers
// included; Publish* encodes and delivers locally on the calling thread and
// hands the PUBLISH to the loop.
#ifndef TAO_CLUSTER_BRIDGE_H_
#define TAO_CLUSTER_BRIDGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/cluster/cluster_counters.h"
#include "tao/message/server.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

struct ClusterBridgeOptions {
  // The Redis server, "host:port" or "[v6]:port" with a numeric host.
  std::string redis_address = "127.0.0.1:6379";
  // Channels are <prefix>:all and <prefix>:group:<name>; servers that share
  // rooms share the prefix (no glob characters).
  std::string channel_prefix = "tao";
  // A connect to Redis not established by then is abandoned and retried.
  absl::Duration connect_timeout = absl::Seconds(2);
  // Reconnect delays double from initial_backoff up to max_backoff, each
  // scaled by a random factor in [0.8, 1.2].
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Bytes of PUBLISH commands Redis has not answered yet (payloads and
  // channel names), beyond which messages are not sent to Redis (counted
  // as dropped; local delivery goes on).
  size_t max_pending_bytes = size_t{64} << 20;
};

class ClusterBridge {
 public:
  // `server` must outlive the bridge.
  ClusterBridge(Server& server, ClusterBridgeOptions options);
  // Stop().
  ~ClusterBridge();
  ClusterBridge(const ClusterBridge&) = delete;
  ClusterBridge& operator=(const ClusterBridge&) = delete;

  // Validates the options and starts connecting (returns at once; Redis may
  // still be down: see connected()). INVALID_ARGUMENT for bad options,
  // FAILED_PRECONDITION before server.Start(), a second time or after Stop.
  absl::Status Start();
  // Disconnects from Redis and waits until that is done. Publish* after it
  // deliver locally only. Idempotent. REQUIRES: before server.Join().
  void Stop();

  // The message to every connection of every bridged server.
  absl::Status Publish(const google::protobuf::Message& message);
  // The message to every member of `group` on every bridged server.
  absl::Status PublishToGroup(absl::string_view group,
                              const google::protobuf::Message& message);
  // A raw payload of `type` (RegisterRaw peers), to `group`'s members.
  absl::Status PublishRawToGroup(absl::string_view group, int32_t type,
                                 absl::string_view payload);
  // An encoded frame of the server's codec (e.g. EncodeMessageFrame).
  absl::Status PublishFrame(const absl::Cord& frame);
  absl::Status PublishFrameToGroup(absl::string_view group,
                                   const absl::Cord& frame);
  // Each Publish* returns OK once the message is delivered locally, whether
  // or not it could be sent to Redis (see stats()); FAILED_PRECONDITION
  // before Start (nothing delivered), NOT_FOUND / INVALID_ARGUMENT when the
  // message cannot be encoded.

  // Both Redis connections up and both subscriptions confirmed.
  bool connected() const;
  ClusterBridgeStats stats() const;
  // This bridge's origin id in its payloads (random, non-zero).
  uint64_t id() const { return id_; }

 private:
  struct State;

  // Sends to Redis what was delivered locally.
  void PublishRemote(std::string channel, const absl::Cord& frame);

  Server& server_;
  const ClusterBridgeOptions options_;
  const uint64_t id_;
  // Shared with work queued on the loop, which may outlive the bridge.
  const std::shared_ptr<State> state_;

  absl::Mutex mu_;  // Start / Stop
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t collector_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tao

#endif  // TAO_CLUSTER_BRIDGE_H_
