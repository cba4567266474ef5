// A chat room served by tao: every room::Line a member sends is broadcast to
// every member, the sender included.
#ifndef CHAT_ROOM_H_
#define CHAT_ROOM_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tao/tao.h"

class ChatRoom {
 public:
  ChatRoom();

  // Listens on `address` ("127.0.0.1:0" picks a free port) and serves.
  absl::Status Start(const std::string& address);
  // Where it listens, e.g. "127.0.0.1:41234".
  std::string address() const;
  // Blocks until the room is stopped.
  void Join();
  // Answers what was read, flushes, closes every connection, joins.
  void Stop();

 private:
  tao::Registry registry_;
  absl::Status registered_;
  std::unique_ptr<tao::Server> server_;
};

#endif  // CHAT_ROOM_H_
