#include "examples/cluster_chat/cluster_chat_server.h"

#include <utility>

namespace cluster_chat {

ClusterChatServer::ClusterChatServer(tao::ServerOptions options,
                                     tao::ClusterBridgeOptions bridge)
    : rooms_(std::move(options)), bridge_(rooms_.server(), std::move(bridge)) {
  rooms_.SetDelivery(
      [this](absl::string_view room, const rooms::RoomMessage& message) {
        // Lost only when this server's own members cannot take it; a Redis
        // outage is counted by the bridge, and local members still hear it.
        (void)bridge_.PublishToGroup(room, message);
      });
}

absl::Status ClusterChatServer::Start(absl::string_view address) {
  TAO_RETURN_IF_ERROR(server().Listen(address));
  TAO_RETURN_IF_ERROR(server().Start());
  return bridge_.Start();
}

void ClusterChatServer::Stop(absl::Duration grace) {
  server().Stop(grace);
  bridge_.Stop();
  server().Join();
}

}  // namespace cluster_chat
