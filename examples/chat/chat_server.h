// ChatServer: every ChatMessage a client sends is broadcast to all clients
// (including the sender), encoded once and shared by every connection.
#ifndef EXAMPLES_CHAT_CHAT_SERVER_H_
#define EXAMPLES_CHAT_CHAT_SERVER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/tao.h"

namespace chat {

class ChatServer {
 public:
  explicit ChatServer(tao::ServerOptions options);
  absl::Status Start(absl::string_view address);
  void Stop();
  const tao::InetAddress& address() const { return server_->listen_address(); }
  tao::Server& server() { return *server_; }

 private:
  tao::Registry registry_;
  std::unique_ptr<tao::Server> server_;
};

}  // namespace chat

#endif  // EXAMPLES_CHAT_CHAT_SERVER_H_
