// RelayClient: a client of the relay's front server. Ask("sum 1 2 3")
// sends a SumRequest, Ask(text) otherwise an UpperRequest; each answer is
// handed, as a line of text ("sum = 6", "upper = HELLO"), to `on_answer`.
//
// The front server answers asynchronously (the back server does), so a
// client that is done asking waits for its answers (WaitAnswered) before it
// closes: a closed connection gets no more answers.
//
// Thread safety: Connect, WaitAnswered and Stop from the main thread; Ask
// from any thread; `on_answer` runs on the client's loop, one answer at a
// time, in order.
#ifndef EXAMPLES_RELAY_RELAY_CLIENT_H_
#define EXAMPLES_RELAY_RELAY_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/tao.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

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
  // Whether every request sent so far was answered within `timeout`.
  bool WaitAnswered(absl::Duration timeout);
  void Stop() { client_->Stop(); }

 private:
  // Sends `request`, counted in asked_ before its answer can arrive.
  absl::Status Send(const google::protobuf::Message& request);
  // Counts the answer and hands it on.
  void Answered(const std::string& answer);

  const AnswerCallback on_answer_;  // constant after construction
  tao::Registry registry_;          // before client_, which uses it
  absl::Mutex mu_;
  // Invariant: answered_ <= asked_ (one answer per request).
  uint64_t asked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t answered_ ABSL_GUARDED_BY(mu_) = 0;
  // Set in the constructor, then constant.
  std::unique_ptr<tao::Client> client_;
};

}  // namespace relay

#endif  // EXAMPLES_RELAY_RELAY_CLIENT_H_
