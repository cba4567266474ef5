#include "tao/message/server.h"

#include <utility>

#include "tao/base/status_macros.h"
#include "tao/message/metrics_export.h"

namespace tao {

Server::Server(ServerOptions options, const Registry* registry)
    : MessageEndpoint(options, registry),
      options_(std::move(options)),
      tcp_(options_, core_.factory()) {
  collector_ = metrics_.AddCollector([this](MetricSink& sink) {
    const ServerStats snapshot = stats();
    EmitTcpServerMetrics(snapshot, sink);
    EmitMessageMetrics(snapshot, core_.dispatcher(), sink);
    EmitHandshakeMetrics(options_.tls.get(), sink);
  });
}

Server::~Server() {
  tcp_.Stop(absl::ZeroDuration());  // no-op when already stopped
  Join();
  metrics_.RemoveCollector(collector_);
}

absl::Status Server::Start() {
  TAO_RETURN_IF_ERROR(core_.Start());
  TAO_RETURN_IF_ERROR(tcp_.Start());
  return StartMetrics();
}

void Server::Stop(absl::Duration grace) {
  DrainMetrics();
  tcp_.Stop(grace);
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
  StopMetrics();
}

ServerStats Server::stats() const {
  ServerStats stats;
  static_cast<TcpServerStats&>(stats) = tcp_.stats();
  static_cast<MessageStats&>(stats) = core_.stats();
  return stats;
}

}  // namespace tao
