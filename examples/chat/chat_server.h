// ChatServer: every ChatMessage a client sends is broadcast to all clients
// (including the sender), encoded once and shared by every connection.
//
// Go tao's own chat clients (github.com/leesper/tao examples/chat) mix in:
// they send type 1 with the text as raw bytes. A connection is a tao client
// until its first type-1 frame makes it a Go client (the group "go"); tao
// clients receive every line as a ChatMessage (a Go client's `from` is its
// address), Go clients as type 1 raw text ("from: text" for lines of tao
// clients, a Go client's bytes unchanged).
//
// Thread safety: Start and Stop from one controlling thread; the handlers
// run on the server's threads.
#ifndef EXAMPLES_CHAT_CHAT_SERVER_H_
#define EXAMPLES_CHAT_CHAT_SERVER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/tao.h"

namespace chat {

// The type of Go tao's chat message (raw text).
inline constexpr int32_t kGoChatType = 1;

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
