// Test-only: a message server (Server + Registry + ConnectionTracker) on
// 127.0.0.1:0, and a TLV frame builder, for tests of the message layer.
//
//   tao::testing::MessageServer server(options);
//   server.registry().RegisterRaw(1, ...);       // before Start()
//   ASSERT_TRUE(server.Start().ok());
//   absl::StatusOr<TestPeer> peer = server.Connect();
//   ASSERT_TRUE(peer->WriteAll(TlvFrame(1, "hi")).ok());
//
// The server's handlers reach it through ctx.endpoint() (== &server()).
//
// Thread safety: Start/Stop/Connect from the test thread.
#ifndef TAO_TESTING_MESSAGE_SERVER_H_
#define TAO_TESTING_MESSAGE_SERVER_H_

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/inet_address.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace testing {

// A TLV frame (int32 LE type | uint32 LE length | payload).
inline std::string TlvFrame(int32_t type, absl::string_view payload) {
  std::string out;
  absl::Status s = TlvCodec::Default().AppendFrame(type, payload, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Registers a raw handler for `type` that replies with the same type and
// payload.
inline absl::Status RegisterRawEcho(Registry& registry, int32_t type) {
  return registry.RegisterRaw(type, [type](Context& ctx, absl::string_view p) {
    (void)ctx.ReplyRaw(type, p);
  });
}

// Registers a raw handler for `type` that throws std::runtime_error with
// the payload as its message.
inline absl::Status RegisterRawThrow(Registry& registry, int32_t type) {
  return registry.RegisterRaw(type, [](Context&, absl::string_view p) {
    throw std::runtime_error(std::string(p));
  });
}

// A message server with a registry and a tracker, on 127.0.0.1:0. Register
// handlers through registry() before Start().
class MessageServer {
 public:
  explicit MessageServer(ServerOptions options)
      : options_(std::move(options)) {}
  ~MessageServer() { Stop(); }
  MessageServer(const MessageServer&) = delete;
  MessageServer& operator=(const MessageServer&) = delete;

  Registry& registry() { return registry_; }

  absl::Status Start(Callbacks callbacks = Callbacks()) {
    server_ = std::make_unique<Server>(options_, &registry_);
    Install(*server_, tracker_, std::move(callbacks));
    absl::Status listening = server_->Listen("127.0.0.1:0");
    if (!listening.ok()) return listening;
    return server_->Start();
  }

  void Stop() {
    if (server_ == nullptr || stopped_) return;
    stopped_ = true;
    server_->Stop(absl::Seconds(10));
    server_->Join();
  }

  Server& server() { return *server_; }
  ConnectionTracker& tracker() { return tracker_; }
  const InetAddress& address() const { return server_->listen_address(); }

  absl::StatusOr<TestPeer> Connect() { return TestPeer::Connect(address()); }

 private:
  const ServerOptions options_;
  Registry registry_;          // outlives server_
  ConnectionTracker tracker_;  // outlives server_
  std::unique_ptr<Server> server_;
  bool stopped_ = false;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_MESSAGE_SERVER_H_
