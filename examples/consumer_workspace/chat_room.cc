#include "chat_room.h"

#include "room.pb.h"

ChatRoom::ChatRoom() {
  registered_ = registry_.Register<room::Line>(
      [](tao::Context& ctx, const room::Line& line) {
        (void)ctx.endpoint().Broadcast(line);  // encoded once, shared by all
      });
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;  // handlers inline on the I/O loop
  server_ = std::make_unique<tao::Server>(options, &registry_);
}

absl::Status ChatRoom::Start(const std::string& address) {
  if (!registered_.ok()) return registered_;
  absl::Status status = server_->Listen(address);
  if (status.ok()) status = server_->Start();
  return status;
}

std::string ChatRoom::address() const {
  return server_->listen_address().ToString();
}

void ChatRoom::Join() { server_->Join(); }

void ChatRoom::Stop() {
  server_->Stop(absl::Seconds(1));
  server_->Join();
}
