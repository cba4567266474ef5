#include "tao/message/message_handler.h"

#include <utility>

#include "tao/message/message_core.h"

namespace tao {

bool MessageHandler::OnConnected(Connection& connection) {
  const MessageCallbacks& callbacks = core_.callbacks();
  if (callbacks.on_connect && !callbacks.on_connect(connection)) return false;
  if (core_.heartbeat().enabled()) {
    heartbeat_ = std::make_unique<HeartbeatMonitor::ConnectionState>();
    core_.heartbeat().Attach(connection, *heartbeat_);
  }
  return true;
}

void MessageHandler::OnData(Connection& connection, Buffer& input) {
  core_.dispatcher().OnData(connection, input, dispatch_);
}

absl::Status MessageHandler::OnPeerEof(Connection& connection,
                                       const Buffer& unconsumed) {
  return core_.dispatcher().OnPeerEof(connection, unconsumed, dispatch_);
}

void MessageHandler::OnHighWater(Connection& connection, size_t queued) {
  core_.CountHighWaterCrossing();
  const MessageCallbacks& callbacks = core_.callbacks();
  if (callbacks.on_high_water_mark) {
    callbacks.on_high_water_mark(connection, queued);
  }
}

void MessageHandler::OnLowWater(Connection& connection, size_t queued) {
  const MessageCallbacks& callbacks = core_.callbacks();
  if (callbacks.on_low_water_mark) {
    callbacks.on_low_water_mark(connection, queued);
  }
}

void MessageHandler::OnError(Connection& connection,
                             const absl::Status& error) {
  const MessageCallbacks& callbacks = core_.callbacks();
  if (callbacks.on_error) callbacks.on_error(connection, error);
}

void MessageHandler::OnClosed(Connection& connection,
                              const absl::Status& /*reason*/) {
  if (heartbeat_ != nullptr) core_.heartbeat().Detach(*heartbeat_);
  const MessageCallbacks& callbacks = core_.callbacks();
  if (callbacks.on_close) callbacks.on_close(connection);
  // After OnClose, which may still ask which groups the connection was in.
  core_.endpoint().groups().LeaveAll(connection.id());
}

void MessageHandler::Execute(Connection& connection,
                             absl::AnyInvocable<void()> work) {
  core_.dispatcher().Execute(connection, dispatch_, std::move(work));
}

}  // namespace tao
