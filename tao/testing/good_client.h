// Test-only: a well-behaved message client, the "control connection" of
// tests in which other peers misbehave. A tao::Client that keeps a window of
// test::Chat messages in flight to a server that echoes them (a Chat handler
// replying with the message it got) and checks every echo byte-exact and in
// order, until Finish().
//
//   tao::testing::GoodClient control(0, server.address());
//   ASSERT_TRUE(control.Begin().ok());
//   ASSERT_TRUE(control.WaitForReceived(20)) << control.failure();
//   ... a hostile peer does its worst ...
//   EXPECT_TRUE(control.Finish());          // every message came back
//   EXPECT_EQ(control.failure(), "");
//
// Frames of other types (a broadcast) are counted (others()), not checked.
//
// Thread safety: the accessors and waits from any thread; Begin once.
#ifndef TAO_TESTING_GOOD_CLIENT_H_
#define TAO_TESTING_GOOD_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "codec/proto/test_messages.pb.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/registry.h"
#include "tao/net/inet_address.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace testing {

class GoodClient {
 public:
  static constexpr int kWindow = 4;

  // Connects to `server` (waited for in Begin). Each message's text is
  // "client <index> message <n>" followed by `padding` bytes, for controls
  // that echo large payloads.
  GoodClient(int index, const InetAddress& server, size_t padding = 0);
  ~GoodClient();  // Stop()
  GoodClient(const GoodClient&) = delete;
  GoodClient& operator=(const GoodClient&) = delete;

  // Waits for the connection, then sends the first window of messages. From
  // the client's loop thread, like every later send (one per echo), so all
  // sends of this connection come from one thread.
  absl::Status Begin();

  // Waits until `n` echoes arrived; false on timeout or a failure.
  bool WaitForReceived(int64_t n);
  // Stops sending and waits until every message sent was echoed; false on
  // timeout or a failure.
  bool Finish();

  int64_t received();
  // Frames of types other than Chat received.
  int64_t others();
  // The first mismatch or send error; "" when none.
  std::string failure();
  ConnectionTracker& tracker() { return tracker_; }
  Client& client() { return *client_; }

 private:
  test::Chat Next() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Text(int64_t n) const;
  void OnEcho(Context& ctx, const test::Chat& chat);

  const int index_;
  const std::string padding_;
  Registry registry_;
  ConnectionTracker tracker_;
  std::unique_ptr<Client> client_;
  absl::Mutex mu_;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t others_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::string failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_GOOD_CLIENT_H_
