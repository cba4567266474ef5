#include "tao/message/message_core.h"

#include <utility>

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
  return stats;
}

}  // namespace tao
