#include "examples/chat/chat_client.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace chat {

ChatClient::ChatClient(std::string name, MessageCallback on_message,
                       tao::ClientOptions options)
    : name_(std::move(name)) {
  absl::Status registered = registry_.Register<ChatMessage>(
      [on_message = std::move(on_message)](
          tao::Context&, const ChatMessage& message) { on_message(message); });
  TAO_CHECK(registered.ok()) << registered;
  options.handler_threads = 1;  // one ordered stream of messages
  client_ = std::make_unique<tao::Client>(options, &registry_);
  client_->OnError([name = name_](tao::Connection&, const absl::Status& error) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), error.ToString().c_str());
  });
}

ChatClient::~ChatClient() { Leave(); }

absl::Status ChatClient::Join(absl::string_view address,
                              absl::Duration timeout) {
  TAO_RETURN_IF_ERROR(client_->Connect(address));
  absl::Status joined = client_->WaitConnected(timeout);
  if (!joined.ok()) {
    return absl::Status(joined.code(),
                        absl::StrCat(name_, ": ", joined.message()));
  }
  return absl::OkStatus();
}

absl::Status ChatClient::Say(absl::string_view text) {
  ChatMessage message;
  message.set_from(name_);
  message.set_text(std::string(text));
  return client_->Send(message);
}

void ChatClient::Leave() { client_->Stop(); }

}  // namespace chat
