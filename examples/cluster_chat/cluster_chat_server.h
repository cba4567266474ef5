// ClusterChatServer: the rooms chat (examples/rooms) as one server of many.
// A room's lines, and its joined/left notices, reach the room's members on
// every server of the cluster: each server delivers to its own members and
// publishes once to Redis, and the other servers' bridges deliver to
// theirs (tao::ClusterBridge). Behind a load balancer that sends the PROXY
// protocol (ServerOptions::proxy_protocol), the server sees its clients'
// own addresses.
//
// Thread safety: Start and Stop from one controlling thread; the rooms'
// handlers run on the server's threads.
#ifndef EXAMPLES_CLUSTER_CHAT_CLUSTER_CHAT_SERVER_H_
#define EXAMPLES_CLUSTER_CHAT_CLUSTER_CHAT_SERVER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "examples/rooms/rooms_server.h"
#include "tao/cluster/bridge.h"
#include "tao/tao.h"

namespace cluster_chat {

class ClusterChatServer {
 public:
  ClusterChatServer(tao::ServerOptions options,
                    tao::ClusterBridgeOptions bridge);
  // Listen (and ListenMetrics) on it before Start.
  tao::Server& server() { return rooms_.server(); }
  const tao::ClusterBridge& bridge() const { return bridge_; }
  // Listens on `address`, starts the server, then the bridge (which
  // connects to Redis in the background, retrying).
  absl::Status Start(absl::string_view address);
  // Stops accepting and drains the connections for up to `grace` (/healthz
  // says 503 meanwhile, so a load balancer sends new clients elsewhere),
  // then stops the bridge and joins the server's threads.
  void Stop(absl::Duration grace = absl::Seconds(2));

  // The bridge alone, for a caller that starts and stops the server itself
  // (examples/common/serve.h): after the server's Start, before its Join.
  absl::Status StartBridge() { return bridge_.Start(); }
  void StopBridge() { bridge_.Stop(); }

 private:
  rooms::RoomsServer rooms_;
  tao::ClusterBridge bridge_;
};

}  // namespace cluster_chat

#endif  // EXAMPLES_CLUSTER_CHAT_CLUSTER_CHAT_SERVER_H_
