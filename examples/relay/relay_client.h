// RelayClient: a client of the relay's front server. Ask("sum 1 2 3")
// sends a SumRequest, Ask(text) otherwise an UpperRequest; each answer is
// handed, as a line of text ("sum = 6", "upper = HELLO"), to `on_answer`.
//
// Thread safety: Connect from the main thread; Ask from any thread;
// `on_answer` runs on the client's loop, one answer at a time, in order.
#ifndef EXAMPLES_RELAY_RELAY_CLIENT_H_
#define EXAMPLES_RELAY_RELAY_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/tao.h"

namespace relay {

class RelayClient {
 public:
  using AnswerCallback = std::function<void(const std::string& answer)>;

  RelayClient(tao::ClientOptions options, AnswerCallback on_answer);
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  // Connects and waits (10 s at most) for the connection.
  absl::Status Connect(absl::string_view address);
  absl::Status Ask(absl::string_view line);
  void Stop() { client_->Stop(); }

 private:
  const AnswerCallback on_answer_;  // constant after construction
  tao::Registry registry_;          // before client_, which uses it
  // On the heap: a tao::Client's alignment (64) is more than some stacks
  // give (GCC's ASan fake stack).
  const std::unique_ptr<tao::Client> client_;
};

}  // namespace relay

#endif  // EXAMPLES_RELAY_RELAY_CLIENT_H_
