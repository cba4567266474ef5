#include "tao/message/server.h"

#include <utility>

#include "tao/base/status_macros.h"

namespace tao {

Server::Server(ServerOptions options, const Registry* registry)
    : MessageEndpoint(options, registry),
      options_(std::move(options)),
      tcp_(options_, core_.factory()) {}

Server::~Server() {
  tcp_.Stop(absl::ZeroDuration());  // no-op when already stopped
  Join();
}

absl::Status Server::Start() {
  TAO_RETURN_IF_ERROR(core_.Start());
  return tcp_.Start();
}

absl::Status Server::Run() {
  TAO_RETURN_IF_ERROR(Start());
  Join();
  return absl::OkStatus();
}

void Server::Join() {
  // Handlers still queued run (their sends fail: connections are closed)
  // while the loops still exist, so nothing they post reaches a dead loop.
  tcp_.Join([this] { core_.Shutdown(); });
  core_.Shutdown();  // not started: no-op; idempotent
}

ServerStats Server::stats() const {
  ServerStats stats;
  static_cast<TcpServerStats&>(stats) = tcp_.stats();
  static_cast<MessageStats&>(stats) = core_.stats();
  return stats;
}

}  // namespace tao
