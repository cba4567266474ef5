// FlatBuffers tables over loopback: a Client and a Server exchange
// verified tables both ways, and a peer sending a corrupt or too deeply
// nested table is counted as a bad payload and disconnected.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "codec/flatbuffers/test_tables_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/flatbuffers.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

namespace fbs = ::tao::test::fbs;
using ::tao::testing::kTimeout;
using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;
using ::testing::HasSubstr;

// The server answers every Position with the same one, entity + 1000.
absl::Status RegisterPositionEcho(Registry& registry) {
  return RegisterFlatBuffer<fbs::Position>(
      registry, [](Context& ctx, const fbs::Position& p) {
        flatbuffers::FlatBufferBuilder builder;
        auto name = builder.CreateString(p.name() ? p.name()->str() : "");
        builder.Finish(
            fbs::CreatePosition(builder, p.entity() + 1000, p.at(), name));
        EXPECT_TRUE(ReplyFlatBuffer<fbs::Position>(ctx, builder).ok());
      });
}

ServerOptions ServerOptionsWith(int handler_threads) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = handler_threads;
  return options;
}

class FlatBuffersE2ETest : public ::testing::TestWithParam<int> {};

TEST_P(FlatBuffersE2ETest, ClientAndServerExchangeTables) {
  MessageServer server(ServerOptionsWith(GetParam()));
  ASSERT_TRUE(RegisterPositionEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());

  absl::Mutex mu;
  std::vector<uint64_t> entities;
  Registry client_registry;
  ASSERT_TRUE(RegisterFlatBuffer<fbs::Position>(
                  client_registry,
                  [&](Context&, const fbs::Position& p) {
                    EXPECT_EQ(p.name()->str(), "runner");
                    EXPECT_EQ(p.at()->x(), static_cast<float>(p.entity()));
                    absl::MutexLock lock(&mu);
                    entities.push_back(p.entity());
                  })
                  .ok());
  auto client = std::make_unique<Client>(ClientOptions(), &client_registry);
  ASSERT_TRUE(client->Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client->WaitConnected(kTimeout).ok());

  constexpr int kUpdates = 100;
  flatbuffers::FlatBufferBuilder builder;
  for (int i = 0; i < kUpdates; ++i) {
    builder.Clear();  // one builder, reused
    auto name = builder.CreateString("runner");
    fbs::Vec2 at(static_cast<float>(i + 1000), 0.0f);
    builder.Finish(fbs::CreatePosition(builder, i, &at, name));
    ASSERT_TRUE(SendFlatBuffer<fbs::Position>(*client, builder).ok());
  }
  {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return entities.size() >= kUpdates;
    };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), kTimeout));
    for (int i = 0; i < kUpdates; ++i) EXPECT_EQ(entities[i], i + 1000u);
  }
  EXPECT_EQ(server.server().stats().bad_payloads, 0u);
  client->Stop();
}

TEST_P(FlatBuffersE2ETest, ABadTableClosesOnlyItsConnection) {
  MessageServer server(ServerOptionsWith(GetParam()));
  ASSERT_TRUE(RegisterPositionEcho(server.registry()).ok());
  ASSERT_TRUE(
      RegisterFlatBuffer<fbs::Node>(server.registry(), [](Context&,
                                                          const fbs::Node&) {
        ADD_FAILURE() << "too deep";
      }).ok());
  ASSERT_TRUE(server.Start().ok());

  absl::StatusOr<TestPeer> good = server.Connect();
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<TestPeer> corrupt = server.Connect();
  ASSERT_TRUE(corrupt.ok()) << corrupt.status();
  absl::StatusOr<TestPeer> deep = server.Connect();
  ASSERT_TRUE(deep.ok()) << deep.status();

  ASSERT_TRUE(corrupt->WriteAll(TlvFrame(7, "\x10\0\0\0garbage")).ok());
  EXPECT_TRUE(corrupt->ExpectEof().ok());
  flatbuffers::FlatBufferBuilder nodes;
  flatbuffers::Offset<fbs::Node> node;
  for (int i = 0; i < 1000; ++i) node = fbs::CreateNode(nodes, node, i);
  nodes.Finish(node);
  ASSERT_TRUE(deep->WriteAll(TlvFrame(8, FlatBufferBytes(nodes))).ok());
  EXPECT_TRUE(deep->ExpectEof().ok());
  ASSERT_TRUE(server.tracker().WaitForCloses(2));
  EXPECT_EQ(server.server().stats().bad_payloads, 2u);
  for (const auto& record : server.tracker().All()) {
    if (record.closes == 0) continue;
    EXPECT_TRUE(absl::IsDataLoss(record.close_reason)) << record.close_reason;
    EXPECT_THAT(record.close_reason.message(), HasSubstr("tao.test.fbs."));
  }

  // The good peer still gets answers.
  flatbuffers::FlatBufferBuilder builder;
  auto name = builder.CreateString("still here");
  builder.Finish(fbs::CreatePosition(builder, 1, nullptr, name));
  const std::string request = TlvFrame(7, FlatBufferBytes(builder));
  absl::StatusOr<std::string> reply = good->Exchange(request, 8);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->substr(0, 1), "\x07");
}

INSTANTIATE_TEST_SUITE_P(InlineAndPooled, FlatBuffersE2ETest,
                         ::testing::Values(0, 2));

}  // namespace
}  // namespace tao
