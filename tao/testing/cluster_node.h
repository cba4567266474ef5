// Test-only: one node of a test cluster, a message Server on 127.0.0.1:0
// with a ClusterBridge, speaking a tiny raw protocol, and a client for it.
//
//   client -> server  kJoin   payload: room     (reply kJoined, same room)
//   client -> server  kSay    payload: anything -> bridge.PublishRawToGroup(
//                                                   room of the sender, kHeard)
//   server -> client  kHeard  payload: as said
//
//   tao::testing::ClusterNode node({.redis_address = redis.address()});
//   ASSERT_TRUE(node.Start().ok());
//   absl::StatusOr<tao::testing::RoomClient> c =
//       tao::testing::RoomClient::Join(node.address(), "room");
//   ASSERT_TRUE(c->Say("hello").ok());
//   absl::StatusOr<std::string> heard = c->Hear();
//   node.Shutdown();   // bridge.Stop(), then server Stop + Join
//
// Thread safety: ClusterNode from one controlling thread (its handlers run
// on the server's loops); a RoomClient belongs to one thread at a time.
#ifndef TAO_TESTING_CLUSTER_NODE_H_
#define TAO_TESTING_CLUSTER_NODE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/cluster/bridge.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/inet_address.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace testing {

inline constexpr int32_t kJoin = 11;
inline constexpr int32_t kJoined = 12;
inline constexpr int32_t kSay = 13;
inline constexpr int32_t kHeard = 14;

class ClusterNode {
 public:
  explicit ClusterNode(ClusterBridgeOptions bridge_options,
                       size_t io_threads = 2);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Server Listen + Start, then the bridge's Start.
  absl::Status Start();
  // bridge.Stop() before the server's Stop and Join; idempotent.
  void Shutdown();

  const InetAddress& address() const { return server_.listen_address(); }
  Server& server() { return server_; }
  ClusterBridge& bridge() { return bridge_; }

 private:
  Registry registry_;  // outlives server_
  Server server_;
  ClusterBridge bridge_;
  std::atomic<bool> started_{false};
  bool shut_down_ = false;
};

// A blocking client of a ClusterNode that has joined one room.
class RoomClient {
 public:
  // Connects, joins `room` and waits for the server's kJoined.
  static absl::StatusOr<RoomClient> Join(const InetAddress& node,
                                         absl::string_view room,
                                         absl::Duration timeout = kTimeout);

  absl::Status Say(absl::string_view payload);
  // The next kHeard payload.
  absl::StatusOr<std::string> Hear(absl::Duration timeout = kTimeout);

  TestPeer& peer() { return peer_; }

 private:
  explicit RoomClient(TestPeer peer) : peer_(std::move(peer)) {}
  // The next frame of `type` (FAILED_PRECONDITION for another type).
  absl::StatusOr<std::string> Read(int32_t type, absl::Duration timeout);

  TestPeer peer_;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_CLUSTER_NODE_H_
