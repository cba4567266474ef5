#include "examples/chat/chat_server.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "examples/chat/chat.pb.h"

namespace chat {

namespace {

constexpr absl::string_view kGoClients = "go";

// `message` to both kinds of clients, encoded once per kind: Go clients
// are the "go" group, tao clients every other connection.
void Relay(const tao::Endpoint& endpoint, const ChatMessage& message,
           absl::string_view go_text) {
  // One snapshot of the Go clients (one lock), not a lookup per connection.
  absl::flat_hash_set<uint64_t> go_ids;
  for (const tao::ConnectionPtr& c : endpoint.groups().Members(kGoClients)) {
    go_ids.insert(c->id());
  }
  std::vector<tao::ConnectionPtr> tao_clients;
  endpoint.ForEach([&](const tao::ConnectionPtr& connection) {
    if (!go_ids.contains(connection->id())) tao_clients.push_back(connection);
  });
  (void)endpoint.Multicast(tao_clients, message);
  (void)endpoint.BroadcastRawToGroup(kGoClients, kGoChatType, go_text);
}

}  // namespace

ChatServer::ChatServer(tao::ServerOptions options) {
  absl::Status registered = registry_.Register<ChatMessage>(
      [](tao::Context& ctx, const ChatMessage& message) {
        Relay(ctx.endpoint(), message,
              absl::StrCat(message.from(), ": ", message.text()));
      });
  TAO_CHECK(registered.ok()) << registered;
  registered = registry_.RegisterRaw(
      kGoChatType, [](tao::Context& ctx, absl::string_view text) {
        tao::ConnectionGroups& groups = ctx.endpoint().groups();
        const uint64_t id = ctx.connection().id();
        if (!groups.Contains(kGoClients, id)) {  // its first line
          groups.Join(kGoClients, ctx.connection());
        }
        ChatMessage message;
        message.set_from(ctx.connection().peer_address().ToString());
        message.set_text(std::string(text));
        Relay(ctx.endpoint(), message, text);
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
