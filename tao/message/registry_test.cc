#include "tao/message/registry.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "codec/codec.h"
#include "codec/proto/test_messages.pb.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/net/connection.h"
#include "tao/testing/detached_connection.h"

namespace tao {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(detached_.ok()); }

  Context MakeContext(int32_t type) { return detached_.MakeContext(type); }

  testing::DetachedConnection detached_;
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

TEST_F(RegistryTest, RegisterDispatchKeepsItsNameAndStatus) {
  ASSERT_TRUE(registry_
                  .RegisterDispatch(5, "custom.Type",
                                    [](Context&, absl::string_view p) {
                                      return p.empty()
                                                 ? absl::DataLossError("empty")
                                                 : absl::OkStatus();
                                    })
                  .ok());
  EXPECT_EQ(registry_.TypeName(5), "custom.Type");
  Context ctx = MakeContext(5);
  EXPECT_TRUE(registry_.Dispatch(ctx, 5, "x").ok());
  EXPECT_TRUE(absl::IsDataLoss(registry_.Dispatch(ctx, 5, "")));
  EXPECT_TRUE(absl::IsInvalidArgument(
      registry_.RegisterDispatch(6, "none", Registry::DispatchFn())));
  EXPECT_TRUE(absl::IsAlreadyExists(registry_.RegisterDispatch(
      5, "again",
      [](Context&, absl::string_view) { return absl::OkStatus(); })));
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

TEST_F(RegistryTest, ContextGivesTheConnectionsEndpoint) {
  const Endpoint* seen = nullptr;
  ConnectionPtr found;
  ASSERT_TRUE(registry_
                  .RegisterRaw(9,
                               [&](Context& ctx, absl::string_view) {
                                 seen = &ctx.endpoint();
                                 found = ctx.endpoint().Find(ctx.net_id());
                               })
                  .ok());
  Context ctx = MakeContext(9);
  ASSERT_TRUE(registry_.Dispatch(ctx, 9, "").ok());
  EXPECT_EQ(seen, &detached_.endpoint());
  EXPECT_EQ(found, detached_.connection_ptr());
}

// --- The catch-all handler (Go tao's OnMessage) ---------------------------

TEST_F(RegistryTest, CatchAllTwiceIsAlreadyExistsAndEmptyIsInvalidArgument) {
  EXPECT_FALSE(registry_.has_catch_all());
  absl::Status empty = registry_.RegisterCatchAll(Registry::RawHandler());
  EXPECT_TRUE(absl::IsInvalidArgument(empty)) << empty;
  EXPECT_FALSE(registry_.has_catch_all());
  ASSERT_TRUE(
      registry_.RegisterCatchAll([](Context&, absl::string_view) {}).ok());
  EXPECT_TRUE(registry_.has_catch_all());
  absl::Status twice =
      registry_.RegisterCatchAll([](Context&, absl::string_view) {});
  EXPECT_TRUE(absl::IsAlreadyExists(twice)) << twice;
  // A catch-all is not a registered type.
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistryTest, CatchAllGetsEveryTypeWithoutAHandlerOfItsOwn) {
  std::vector<std::pair<int32_t, std::string>> caught;
  std::vector<std::string> chats;
  ASSERT_TRUE(registry_
                  .Register<test::Chat>([&](Context&, const test::Chat& m) {
                    chats.push_back(m.text());
                  })
                  .ok());
  ASSERT_TRUE(registry_
                  .RegisterCatchAll([&](Context& ctx, absl::string_view p) {
                    caught.emplace_back(ctx.type(), std::string(p));
                  })
                  .ok());
  // Its own handler wins over the catch-all.
  test::Chat chat;
  chat.set_text("typed");
  Context chat_ctx = MakeContext(1);
  ASSERT_TRUE(registry_.Dispatch(chat_ctx, 1, chat.SerializeAsString()).ok());
  EXPECT_EQ(chats, std::vector<std::string>{"typed"});
  EXPECT_TRUE(caught.empty());
  // Every other type, with its type and its payload untouched.
  const absl::string_view payload("any\0bytes", 9);
  Context ctx42 = MakeContext(42);
  ASSERT_TRUE(registry_.Dispatch(ctx42, 42, payload).ok());
  Context ctx_negative = MakeContext(-5);
  ASSERT_TRUE(registry_.Dispatch(ctx_negative, -5, "").ok());
  ASSERT_EQ(caught.size(), 2u);
  EXPECT_EQ(caught[0].first, 42);
  EXPECT_EQ(caught[0].second, payload);
  EXPECT_EQ(caught[1].first, -5);
  EXPECT_EQ(caught[1].second, "");
  EXPECT_FALSE(registry_.Contains(42));
  EXPECT_NE(registry_.Find(42), nullptr);
  EXPECT_NE(registry_.Find(42), registry_.Find(1));
  EXPECT_EQ(registry_.TypeName(42), "catch-all");
  EXPECT_EQ(registry_.TypeName(1), "tao.test.Chat");
}

TEST_F(RegistryTest, HeartbeatStaysTheFrameworksUnlessRegistered) {
  bool caught = false;
  ASSERT_TRUE(
      registry_
          .RegisterCatchAll([&](Context&, absl::string_view) { caught = true; })
          .ok());
  // The catch-all does not take the heartbeat: the dispatcher handles it.
  EXPECT_EQ(registry_.Find(kHeartbeatType), nullptr);
  Context ctx = MakeContext(kHeartbeatType);
  EXPECT_TRUE(absl::IsNotFound(registry_.Dispatch(ctx, kHeartbeatType, "")));
  EXPECT_FALSE(caught);
  // Registered explicitly, the heartbeat goes to its handler.
  bool heartbeat = false;
  ASSERT_TRUE(
      registry_
          .RegisterRaw(kHeartbeatType,
                       [&](Context&, absl::string_view) { heartbeat = true; })
          .ok());
  ASSERT_NE(registry_.Find(kHeartbeatType), nullptr);
  ASSERT_TRUE(registry_.Dispatch(ctx, kHeartbeatType, "").ok());
  EXPECT_TRUE(heartbeat);
  EXPECT_FALSE(caught);
}

TEST_F(RegistryTest, WithoutCatchAllUnknownTypesAreNotFound) {
  EXPECT_EQ(registry_.Find(42), nullptr);
  EXPECT_EQ(registry_.TypeName(42), "");
}

}  // namespace
}  // namespace tao
