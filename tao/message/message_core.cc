#include "tao/message/message_core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/message/message_handler.h"

namespace tao {

MessageCore::MessageCore(const MessageOptions& options,
                         const Registry* registry, const Endpoint* endpoint)
    : codec_(CodecOrDefault(options.codec)),
      endpoint_(endpoint),
      dispatcher_(registry, codec_.get(), options, endpoint,
                  [this](Connection& c, const absl::Status& error) {
                    if (callbacks_.on_error) callbacks_.on_error(c, error);
                  }),
      heartbeat_(options.heartbeat, codec_.get(),
                 [this](Connection& c, IdleKind kind) {
                   if (!callbacks_.on_idle) return;
                   // Where the connection's handlers run, never beside
                   // them.
                   c.handler().Execute(
                       c, [this, self = c.shared_from_this(), kind] {
                         if (self->state() != Connection::State::kClosed) {
                           callbacks_.on_idle(*self, kind);
                         }
                       });
                 }) {}

MessageCore::~MessageCore() { Shutdown(); }

absl::Status MessageCore::Start() { return dispatcher_.Start(); }

void MessageCore::Shutdown() { dispatcher_.Shutdown(); }

ConnectionHandlerFactory MessageCore::factory() {
  return [this] { return std::make_unique<MessageHandler>(*this); };
}

MessageStats MessageCore::stats() const {
  MessageStats stats;
  static_cast<DispatchStats&>(stats) = dispatcher_.stats();
  stats.closed_idle = heartbeat_.closed_idle();
  stats.high_water_crossings = high_water_crossings_.Value();
  stats.frames_sent = endpoint_->frames_sent();
  return stats;
}

MessageEndpoint::~MessageEndpoint() { StopMetrics(); }

absl::Status MessageEndpoint::ListenMetrics(absl::string_view address,
                                            MetricsServerOptions options) {
  if (metrics_server_ != nullptr) {
    return absl::FailedPreconditionError("ListenMetrics was called already");
  }
  auto server = std::make_unique<MetricsServer>(&metrics_, options);
  if (absl::Status listening = server->Listen(address); !listening.ok()) {
    return absl::Status(listening.code(), absl::StrCat("metrics listener: ",
                                                       listening.message()));
  }
  metrics_server_ = std::move(server);
  return absl::OkStatus();
}

InetAddress MessageEndpoint::metrics_address() const {
  return metrics_server_ != nullptr ? metrics_server_->listen_address()
                                    : InetAddress();
}

absl::Status MessageEndpoint::StartMetrics() {
  if (metrics_server_ == nullptr) return absl::OkStatus();
  return metrics_server_->Start();
}

void MessageEndpoint::DrainMetrics() {
  if (metrics_server_ != nullptr) metrics_server_->set_serving(false);
}

void MessageEndpoint::StopMetrics() {
  if (metrics_server_ != nullptr) metrics_server_->Stop();
}

}  // namespace tao
