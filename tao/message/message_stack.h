// MessageStack: what a Server or Client adds on top of raw connections: the
// Dispatcher (frames -> handlers, when it has a Registry) and the
// HeartbeatMonitor (heartbeats and idle detection). One implementation for
// both endpoint kinds.
//
// Thread safety: Install before the endpoint starts; OnConnectionClosed on
// the connection's loop thread; Shutdown from the endpoint's controlling
// thread after its connections closed; stats from any thread.
#ifndef TAO_MESSAGE_MESSAGE_STACK_H_
#define TAO_MESSAGE_MESSAGE_STACK_H_

#include <memory>

#include "absl/status/statusor.h"
#include "codec/codec.h"
#include "tao/message/dispatcher.h"
#include "tao/message/heartbeat.h"
#include "tao/message/registry.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/options.h"

namespace tao {

class Client;
class Server;

class MessageStack {
 public:
  // Chains into `handlers`: on_data dispatches frames (with a registry) and
  // on_connect attaches heartbeats after the user's OnConnect accepted.
  // FAILED_PRECONDITION when a registry is given and handlers->on_data is
  // already set (byte-level and message handling exclude each other).
  static absl::StatusOr<std::unique_ptr<MessageStack>> Install(
      const EndpointOptions& options, const Registry* registry,
      const Codec* codec, Server* server, Client* client, IdleCallback on_idle,
      const std::shared_ptr<Connection::Handlers>& handlers);

  ~MessageStack();
  MessageStack(const MessageStack&) = delete;
  MessageStack& operator=(const MessageStack&) = delete;

  void OnConnectionClosed(Connection& connection);
  // Runs queued handlers, then stops the handler workers.
  void Shutdown();

  DispatchStats dispatch_stats() const;
  uint64_t closed_idle() const { return heartbeat_->closed_idle(); }

 private:
  MessageStack() = default;

  std::unique_ptr<Dispatcher> dispatcher_;  // null without a registry
  std::unique_ptr<HeartbeatMonitor> heartbeat_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_MESSAGE_STACK_H_
