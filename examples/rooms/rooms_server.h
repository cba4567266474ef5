// RoomsServer: a chat with rooms on tao's connection groups. A client joins
// rooms by name (JoinRoom), says lines in a room it is in (RoomMessage,
// encoded once and sent to that room's members only) and leaves (LeaveRoom,
// or by closing: the server's groups forget closed connections, and the
// rooms hear "name left"). Lines go to the room's members on this server;
// SetDelivery routes them elsewhere too (examples/cluster_chat: every
// server of a cluster).
//
// Thread safety: SetDelivery, Start and Stop from one controlling thread;
// the handlers run on the server's threads (names are kept under a mutex).
#ifndef EXAMPLES_ROOMS_ROOMS_SERVER_H_
#define EXAMPLES_ROOMS_ROOMS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "examples/rooms/rooms.pb.h"
#include "tao/tao.h"

namespace rooms {

class RoomsServer {
 public:
  // Sends `message` to the members of `room`; called on the server's
  // threads, concurrently.
  using Delivery =
      std::function<void(absl::string_view room, const RoomMessage& message)>;

  explicit RoomsServer(tao::ServerOptions options);
  // Replaces the default delivery (this server's BroadcastToGroup). Before
  // Start.
  void SetDelivery(Delivery delivery) { deliver_ = std::move(delivery); }
  // Listen (and, with a metrics address, ListenMetrics) before Start.
  tao::Server& server() { return *server_; }
  absl::Status Start(absl::string_view address);
  void Stop();
  const tao::InetAddress& address() const { return server_->listen_address(); }

 private:
  // "name: text" from the server ("*") to `room`.
  void Announce(absl::string_view room, absl::string_view text);
  std::string NameOf(uint64_t connection_id);

  tao::Registry registry_;
  std::unique_ptr<tao::Server> server_;
  Delivery deliver_;
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rooms

#endif  // EXAMPLES_ROOMS_ROOMS_SERVER_H_
