#include "tao/message/registry.h"

#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "codec/proto/test_messages.pb.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/net/event_loop.h"
#include "tao/net/transport.h"

namespace tao {
namespace {

// A connection that is never established: enough to build Contexts.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peer_ = Socket(fds[1]);
    connection_ = std::make_shared<Connection>(
        &loop_, 7, std::make_unique<TcpTransport>(Socket(fds[0])),
        InetAddress(), InetAddress(),
        std::make_shared<const ConnectionOptions>(),
        std::make_shared<Connection::Handlers>(), nullptr, nullptr, nullptr);
  }

  Context MakeContext(int32_t type) {
    return Context(*connection_, nullptr, nullptr, type);
  }

  EventLoop loop_;
  Socket peer_;
  std::shared_ptr<Connection> connection_;
  Registry registry_;
};

TEST_F(RegistryTest, RegisterTakesTypeIdFromProtoOption) {
  ASSERT_TRUE(
      registry_.Register<test::Chat>([](Context&, const test::Chat&) {}).ok());
  EXPECT_TRUE(registry_.Contains(1));
  EXPECT_EQ(registry_.TypeName(1), "tao.test.Chat");
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(RegistryTest, DuplicateIdIsAlreadyExistsNamingTheHolder) {
  ASSERT_TRUE(
      registry_.Register<test::Chat>([](Context&, const test::Chat&) {}).ok());
  absl::Status duplicate = registry_.Register<test::Duplicate>(
      [](Context&, const test::Duplicate&) {});
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate)) << duplicate;
  EXPECT_NE(duplicate.message().find("tao.test.Chat"), std::string::npos)
      << duplicate;
  EXPECT_TRUE(absl::IsAlreadyExists(
      registry_.RegisterRaw(1, [](Context&, absl::string_view) {})));
}

TEST_F(RegistryTest, MissingIdIsNotFound) {
  absl::Status missing =
      registry_.Register<test::Untyped>([](Context&, const test::Untyped&) {});
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistryTest, EmptyHandlerIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      registry_.Register<test::Chat>(Registry::Handler<test::Chat>())));
  EXPECT_TRUE(absl::IsInvalidArgument(
      registry_.RegisterRaw(3, Registry::RawHandler())));
}

TEST_F(RegistryTest, DispatchDecodesAndCallsTypedHandler) {
  std::string seen;
  uint64_t seen_id = 0;
  ASSERT_TRUE(registry_
                  .Register<test::Chat>([&](Context& ctx, const test::Chat& m) {
                    seen = m.text();
                    seen_id = ctx.net_id();
                    EXPECT_EQ(ctx.type(), 1);
                  })
                  .ok());
  test::Chat chat;
  chat.set_text("hello");
  Context ctx = MakeContext(1);
  ASSERT_TRUE(registry_.Dispatch(ctx, 1, chat.SerializeAsString()).ok());
  EXPECT_EQ(seen, "hello");
  EXPECT_EQ(seen_id, 7u);
  // The per-thread message is reused: fields of the previous message must
  // not leak into the next one.
  test::Chat empty;
  ASSERT_TRUE(registry_.Dispatch(ctx, 1, empty.SerializeAsString()).ok());
  EXPECT_EQ(seen, "");
}

TEST_F(RegistryTest, RawHandlerGetsPayloadBytes) {
  std::string seen;
  ASSERT_TRUE(registry_
                  .RegisterRaw(9,
                               [&](Context&, absl::string_view payload) {
                                 seen = std::string(payload);
                               })
                  .ok());
  Context ctx = MakeContext(9);
  const absl::string_view payload("raw\0bytes", 9);
  ASSERT_TRUE(registry_.Dispatch(ctx, 9, payload).ok());
  EXPECT_EQ(seen, payload);
}

TEST_F(RegistryTest, UnparsablePayloadIsDataLoss) {
  bool called = false;
  ASSERT_TRUE(registry_
                  .Register<test::Chat>(
                      [&](Context&, const test::Chat&) { called = true; })
                  .ok());
  Context ctx = MakeContext(1);
  // Field 1 declared length-delimited with a length past the end.
  absl::Status status = registry_.Dispatch(ctx, 1,
                                           "\x0a\x7f"
                                           "abc");
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_FALSE(called);
}

TEST_F(RegistryTest, UnknownTypeIsNotFound) {
  Context ctx = MakeContext(42);
  EXPECT_TRUE(absl::IsNotFound(registry_.Dispatch(ctx, 42, "")));
}

}  // namespace
}  // namespace tao
