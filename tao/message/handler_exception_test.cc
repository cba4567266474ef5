// A handler or a connection timer that throws closes its own connection
// with INTERNAL naming the exception, is counted, and disturbs nothing else:
// the server and a control connection go on (inline and on the pool).
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::ConnectionTracker;
using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kEcho = 1;
constexpr int32_t kThrow = 2;
constexpr int32_t kThrowLater = 3;

class HandlerExceptionTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = GetParam();
    server_ = std::make_unique<MessageServer>(options);
    Registry& registry = server_->registry();
    ASSERT_TRUE(registry
                    .RegisterRaw(kEcho,
                                 [](Context& ctx, absl::string_view p) {
                                   (void)ctx.ReplyRaw(kEcho, p);
                                 })
                    .ok());
    ASSERT_TRUE(registry
                    .RegisterRaw(kThrow,
                                 [](Context&, absl::string_view p) {
                                   throw std::runtime_error(std::string(p));
                                 })
                    .ok());
    ASSERT_TRUE(registry
                    .RegisterRaw(kThrowLater,
                                 [](Context& ctx, absl::string_view) {
                                   ctx.connection().RunAfter(
                                       absl::ZeroDuration(), [](Connection&) {
                                         throw 42;  // not a std::exception
                                       });
                                 })
                    .ok());
    ASSERT_TRUE(server_->Start().ok());
  }

  // A control connection echoes `text` byte-exact.
  void ExpectEcho(TestPeer& peer, absl::string_view text) {
    const std::string frame = TlvFrame(kEcho, text);
    ASSERT_TRUE(peer.WriteAll(frame).ok());
    absl::StatusOr<std::string> got = peer.ReadExactly(frame.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, frame);
  }

  // The server's record of the connection that `peer` is.
  ConnectionTracker::Record RecordOf(TestPeer& peer) {
    ConnectionPtr c = server_->tracker().WaitForPeer(peer.local_address());
    EXPECT_NE(c, nullptr);
    return c == nullptr ? ConnectionTracker::Record()
                        : server_->tracker().Get(c->id());
  }

  std::unique_ptr<MessageServer> server_;
};

TEST_P(HandlerExceptionTest, AThrowingHandlerClosesOnlyItsConnection) {
  absl::StatusOr<TestPeer> control = server_->Connect();
  absl::StatusOr<TestPeer> victim = server_->Connect();
  ASSERT_TRUE(control.ok() && victim.ok());
  ExpectEcho(*control, "before");
  ASSERT_TRUE(victim
                  ->WriteAll(TlvFrame(kThrow, "boom") +
                             TlvFrame(kEcho, "never answered"))
                  .ok());
  EXPECT_TRUE(victim->WaitClosed().ok());
  ExpectEcho(*control, "after");

  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  ConnectionTracker::Record record = RecordOf(*victim);
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsInternal(record.errors[0])) << record.errors[0];
  EXPECT_NE(record.errors[0].message().find("message type 2 threw: boom"),
            absl::string_view::npos)
      << record.errors[0];
  ServerStats stats = server_->server().stats();
  EXPECT_EQ(stats.handler_exceptions, 1u);
  EXPECT_EQ(stats.bad_payloads, 0u);
  EXPECT_EQ(stats.closed_with_error, 1u);
  EXPECT_EQ(stats.connections, 1u);
}

TEST_P(HandlerExceptionTest, AThrowingTimerClosesOnlyItsConnection) {
  absl::StatusOr<TestPeer> control = server_->Connect();
  absl::StatusOr<TestPeer> victim = server_->Connect();
  ASSERT_TRUE(control.ok() && victim.ok());
  ASSERT_TRUE(victim->WriteAll(TlvFrame(kThrowLater, "")).ok());
  EXPECT_TRUE(victim->WaitClosed().ok());
  ExpectEcho(*control, "still here");

  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  ConnectionTracker::Record record = RecordOf(*victim);
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsInternal(record.errors[0])) << record.errors[0];
  EXPECT_NE(record.errors[0].message().find("a connection timer threw"),
            absl::string_view::npos)
      << record.errors[0];
  EXPECT_EQ(server_->server().stats().handler_exceptions, 1u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, HandlerExceptionTest,
                         ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? "Inline" : "Pool";
                         });

}  // namespace
}  // namespace tao
