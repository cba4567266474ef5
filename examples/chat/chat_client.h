// ChatClient: joins a chat server under a name, says lines and hands every
// message it hears to a callback (on the client's handler thread).
#ifndef EXAMPLES_CHAT_CHAT_CLIENT_H_
#define EXAMPLES_CHAT_CHAT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "examples/chat/chat.pb.h"
#include "tao/tao.h"

namespace chat {

class ChatClient {
 public:
  using MessageCallback = std::function<void(const ChatMessage&)>;

  // `options` may carry TLS; handlers always run on one ordered thread.
  ChatClient(std::string name, MessageCallback on_message,
             tao::ClientOptions options = {});
  ~ChatClient();

  // Connects and waits (up to `timeout`) until the connection is up.
  absl::Status Join(absl::string_view address,
                    absl::Duration timeout = absl::Seconds(10));
  absl::Status Say(absl::string_view text);
  void Leave();

 private:
  const std::string name_;
  tao::Registry registry_;
  std::unique_ptr<tao::Client> client_;
};

}  // namespace chat

#endif  // EXAMPLES_CHAT_CHAT_CLIENT_H_
