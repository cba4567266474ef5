#include "tao/message/message_stack.h"

#include <utility>

namespace tao {

absl::StatusOr<std::unique_ptr<MessageStack>> MessageStack::Install(
    const EndpointOptions& options, const Registry* registry,
    const Codec* codec, Server* server, Client* client, IdleCallback on_idle,
    const std::shared_ptr<Connection::Handlers>& handlers) {
  if (registry != nullptr && handlers->on_data) {
    return absl::FailedPreconditionError(
        "an endpoint with a Registry decodes messages itself; OnData is only "
        "for byte-level servers and clients");
  }
  std::unique_ptr<MessageStack> stack(new MessageStack());
  if (registry != nullptr) {
    stack->dispatcher_ = std::make_unique<Dispatcher>(
        registry, codec, options, server, client,
        [handlers = std::weak_ptr<Connection::Handlers>(handlers)](
            Connection& c, const absl::Status& s) {
          std::shared_ptr<Connection::Handlers> h = handlers.lock();
          if (h != nullptr && h->on_error) h->on_error(c, s);
        });
    handlers->on_data = [dispatcher = stack->dispatcher_.get()](Connection& c,
                                                                Buffer& in) {
      dispatcher->OnData(c, in);
    };
  }
  stack->heartbeat_ = std::make_unique<HeartbeatMonitor>(
      options.heartbeat, /*send_heartbeats=*/registry != nullptr,
      std::move(on_idle));
  if (stack->heartbeat_->enabled()) {
    handlers->on_connect = [user = std::move(handlers->on_connect),
                            heartbeat =
                                stack->heartbeat_.get()](Connection& c) {
      if (user && !user(c)) return false;
      heartbeat->Attach(c);
      return true;
    };
  }
  return stack;
}

MessageStack::~MessageStack() { Shutdown(); }

void MessageStack::OnConnectionClosed(Connection& connection) {
  heartbeat_->Detach(connection);
}

void MessageStack::Shutdown() {
  if (dispatcher_ != nullptr) dispatcher_->Shutdown();
}

DispatchStats MessageStack::dispatch_stats() const {
  return dispatcher_ != nullptr ? dispatcher_->stats() : DispatchStats{};
}

}  // namespace tao
