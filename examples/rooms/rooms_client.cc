#include "examples/rooms/rooms_client.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace rooms {

RoomsClient::RoomsClient(std::string name, MessageCallback on_message,
                         tao::ClientOptions options)
    : name_(std::move(name)) {
  absl::Status registered = registry_.Register<RoomMessage>(
      [on_message = std::move(on_message)](
          tao::Context&, const RoomMessage& message) { on_message(message); });
  TAO_CHECK(registered.ok()) << registered;
  options.handler_threads = 1;  // one ordered stream of messages
  client_ = std::make_unique<tao::Client>(options, &registry_);
}

RoomsClient::~RoomsClient() { Disconnect(); }

absl::Status RoomsClient::Connect(absl::string_view address,
                                  absl::Duration timeout) {
  TAO_RETURN_IF_ERROR(client_->Connect(address));
  absl::Status up = client_->WaitConnected(timeout);
  if (!up.ok()) {
    return absl::Status(up.code(), absl::StrCat(name_, ": ", up.message()));
  }
  return absl::OkStatus();
}

absl::Status RoomsClient::Join(absl::string_view room) {
  JoinRoom join;
  join.set_room(std::string(room));
  join.set_name(name_);
  return client_->Send(join);
}

absl::Status RoomsClient::Leave(absl::string_view room) {
  LeaveRoom leave;
  leave.set_room(std::string(room));
  return client_->Send(leave);
}

absl::Status RoomsClient::Say(absl::string_view room, absl::string_view text) {
  RoomMessage message;
  message.set_room(std::string(room));
  message.set_text(std::string(text));
  return client_->Send(message);
}

void RoomsClient::Disconnect() { client_->Stop(); }

tao::InetAddress RoomsClient::local_address() const {
  tao::ConnectionPtr connection = client_->connection();
  return connection != nullptr ? connection->local_address()
                               : tao::InetAddress();
}

}  // namespace rooms
