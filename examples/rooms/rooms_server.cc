#include "examples/rooms/rooms_server.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace rooms {

RoomsServer::RoomsServer(tao::ServerOptions options) {
  absl::Status registered = registry_.Register<JoinRoom>(
      [this](tao::Context& ctx, const JoinRoom& join) {
        {
          absl::MutexLock lock(&mu_);
          names_[ctx.connection().id()] = join.name();
        }
        if (ctx.endpoint().groups().Join(join.room(), ctx.connection())) {
          Announce(join.room(), absl::StrCat(join.name(), " joined"));
        }
      });
  TAO_CHECK(registered.ok()) << registered;
  registered = registry_.Register<LeaveRoom>([this](tao::Context& ctx,
                                                    const LeaveRoom& leave) {
    if (ctx.endpoint().groups().Leave(leave.room(), ctx.connection().id())) {
      Announce(leave.room(),
               absl::StrCat(NameOf(ctx.connection().id()), " left"));
    }
  });
  TAO_CHECK(registered.ok()) << registered;
  registered = registry_.Register<RoomMessage>(
      [this](tao::Context& ctx, const RoomMessage& said) {
        const uint64_t id = ctx.connection().id();
        if (!ctx.endpoint().groups().Contains(said.room(), id)) return;
        RoomMessage message = said;
        message.set_from(NameOf(id));
        deliver_(said.room(), message);
      });
  TAO_CHECK(registered.ok()) << registered;
  server_ = std::make_unique<tao::Server>(std::move(options), &registry_);
  deliver_ = [server = server_.get()](absl::string_view room,
                                      const RoomMessage& message) {
    (void)server->BroadcastToGroup(room, message);
  };
  // Runs before the connection leaves its groups: say goodbye in each.
  server_->OnClose([this](tao::Connection& c) {
    const std::string name = NameOf(c.id());
    for (const std::string& room : server_->groups().GroupsOf(c.id())) {
      server_->groups().Leave(room, c.id());
      Announce(room, absl::StrCat(name, " left"));
    }
    absl::MutexLock lock(&mu_);
    names_.erase(c.id());
  });
}

absl::Status RoomsServer::Start(absl::string_view address) {
  TAO_RETURN_IF_ERROR(server_->Listen(address));
  return server_->Start();
}

void RoomsServer::Stop() {
  server_->Stop(absl::Seconds(2));
  server_->Join();
}

void RoomsServer::Announce(absl::string_view room, absl::string_view text) {
  RoomMessage message;
  message.set_room(std::string(room));
  message.set_from("*");
  message.set_text(std::string(text));
  deliver_(room, message);
}

std::string RoomsServer::NameOf(uint64_t connection_id) {
  absl::MutexLock lock(&mu_);
  auto it = names_.find(connection_id);
  return it != names_.end() ? it->second : absl::StrCat("#", connection_id);
}

}  // namespace rooms
