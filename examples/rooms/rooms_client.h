// RoomsClient: one chat user: joins and leaves rooms, says lines in a room,
// and hands every RoomMessage it hears to a callback (on the client's
// handler thread, in order).
//
// Thread safety: Connect and Disconnect from one thread (not the callback);
// Join, Leave and Say from any.
#ifndef EXAMPLES_ROOMS_ROOMS_CLIENT_H_
#define EXAMPLES_ROOMS_ROOMS_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "examples/rooms/rooms.pb.h"
#include "tao/tao.h"

namespace rooms {

class RoomsClient {
 public:
  using MessageCallback = std::function<void(const RoomMessage&)>;

  RoomsClient(std::string name, MessageCallback on_message,
              tao::ClientOptions options = {});
  ~RoomsClient();  // Disconnect()

  absl::Status Connect(absl::string_view address,
                       absl::Duration timeout = absl::Seconds(10));
  absl::Status Join(absl::string_view room);
  absl::Status Leave(absl::string_view room);
  absl::Status Say(absl::string_view room, absl::string_view text);
  void Disconnect();
  // This client's end of its connection (what a server sees as its peer,
  // unless a proxy is in between); empty when not connected.
  tao::InetAddress local_address() const;

 private:
  const std::string name_;
  tao::Registry registry_;
  std::unique_ptr<tao::Client> client_;
};

}  // namespace rooms

#endif  // EXAMPLES_ROOMS_ROOMS_CLIENT_H_
