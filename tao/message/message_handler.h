// MessageHandler: the message layer's ConnectionHandler, one per connection
// of a message Server or Client (made by MessageCore::factory()). It holds
// everything the layer keeps per connection (dispatch strand, heartbeat
// state) and forwards connection events to the user's callbacks.
//
// Thread safety: the ConnectionHandler callbacks run on the connection's
// loop thread; handlers and timers run where Execute puts them (inline, or
// the connection's strand on the worker pool).
#ifndef TAO_MESSAGE_MESSAGE_HANDLER_H_
#define TAO_MESSAGE_MESSAGE_HANDLER_H_

#include <cstddef>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "tao/message/dispatcher.h"
#include "tao/message/heartbeat.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"

namespace tao {

class MessageCore;

class MessageHandler final : public ConnectionHandler {
 public:
  explicit MessageHandler(MessageCore& core) : core_(core) {}

  bool OnConnected(Connection& connection) override;
  void OnData(Connection& connection, Buffer& input) override;
  absl::Status OnPeerEof(Connection& connection,
                         const Buffer& unconsumed) override;
  void OnHighWater(Connection& connection, size_t queued) override;
  void OnLowWater(Connection& connection, size_t queued) override;
  void OnError(Connection& connection, const absl::Status& error) override;
  void OnClosed(Connection& connection, const absl::Status& reason) override;
  void Execute(Connection& connection,
               absl::AnyInvocable<void()> work) override;

 private:
  MessageCore& core_;
  Dispatcher::ConnectionState dispatch_;
  // Only with heartbeats or idle checks on.
  std::unique_ptr<HeartbeatMonitor::ConnectionState> heartbeat_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_MESSAGE_HANDLER_H_
