#include "examples/chat/chat_server.h"

#include "examples/chat/chat.pb.h"

namespace chat {

ChatServer::ChatServer(tao::ServerOptions options) {
  absl::Status registered = registry_.Register<ChatMessage>(
      [](tao::Context& ctx, const ChatMessage& message) {
        (void)ctx.endpoint().Broadcast(message);
      });
  TAO_CHECK(registered.ok()) << registered;
  server_ = std::make_unique<tao::Server>(std::move(options), &registry_);
  // A peer can repeat any of these as fast as it can send (an error per
  // unknown frame): rate-limited, counted in server().stats().
  server_->OnConnect([](tao::Connection& c) {
    TAO_LOG_RATE_LIMITED(INFO) << "chat: " << c.peer_address() << " joined";
    return true;
  });
  server_->OnClose([](tao::Connection& c) {
    TAO_LOG_RATE_LIMITED(INFO) << "chat: " << c.peer_address() << " left";
  });
  server_->OnError([](tao::Connection& c, const absl::Status& error) {
    TAO_LOG_RATE_LIMITED(WARNING)
        << "chat: " << c.peer_address() << ": " << error;
  });
}

absl::Status ChatServer::Start(absl::string_view address) {
  TAO_RETURN_IF_ERROR(server_->Listen(address));
  return server_->Start();
}

void ChatServer::Stop() {
  server_->Stop(absl::Seconds(2));
  server_->Join();
}

}  // namespace chat
