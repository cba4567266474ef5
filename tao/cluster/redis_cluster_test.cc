// Three tao servers, one room, over a real redis-server (a child process on
// a free loopback port): every member gets every message once; with Redis
// killed, local delivery goes on and remote delivery is counted as dropped;
// with Redis back on the same port, the bridges reconnect, subscribe again
// and remote delivery resumes.
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tao/cluster/bridge.h"
#include "tao/testing/cluster_node.h"
#include "tao/testing/message_server.h"
#include "tao/testing/redis_process.h"

namespace tao {
namespace {

using ::tao::testing::ClusterNode;
using ::tao::testing::RedisProcess;
using ::tao::testing::RoomClient;
using ::tao::testing::WaitFor;

constexpr int kServers = 3;
constexpr int kClientsPerServer = 2;
constexpr int kClients = kServers * kClientsPerServer;
constexpr int kMessages = testing::kTsan ? 20 : 50;  // per client and batch

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = redis_.Start();
    ASSERT_TRUE(started.ok()) << started;
    for (int s = 0; s < kServers; ++s) {
      ClusterBridgeOptions options;
      options.redis_address = redis_.address();
      options.channel_prefix = "test";
      options.initial_backoff = absl::Milliseconds(20);
      options.max_backoff = absl::Milliseconds(200);
      options.max_pending_bytes = MaxPendingBytes();
      nodes_.push_back(std::make_unique<ClusterNode>(options));
      ASSERT_TRUE(nodes_.back()->Start().ok());
    }
    for (int c = 0; c < kClients; ++c) {
      absl::StatusOr<RoomClient> client =
          RoomClient::Join(nodes_[ServerOf(c)]->address(), "room");
      ASSERT_TRUE(client.ok()) << client.status();
      clients_.push_back(*std::move(client));
    }
    ASSERT_TRUE(WaitFor([&] { return AllConnected(); }))
        << "the bridges did not connect to " << redis_.address();
  }

  void TearDown() override {
    clients_.clear();  // before the servers' graceful stop
    for (auto& node : nodes_) node->Shutdown();
  }

  virtual size_t MaxPendingBytes() const { return size_t{64} << 20; }
  static int ServerOf(int client) { return client % kServers; }

  bool AllConnected() const {
    for (const auto& node : nodes_) {
      if (!node->bridge().connected()) return false;
    }
    return true;
  }
  bool NoneConnected() const {
    for (const auto& node : nodes_) {
      if (node->bridge().connected()) return false;
    }
    return true;
  }
  uint64_t Sum(uint64_t ClusterBridgeStats::*field) const {
    uint64_t sum = 0;
    for (const auto& node : nodes_) sum += node->bridge().stats().*field;
    return sum;
  }

  // Every client says kMessages lines tagged with `batch`.
  void SayBatch(absl::string_view batch) {
    for (int i = 0; i < kMessages; ++i) {
      for (int c = 0; c < kClients; ++c) {
        ASSERT_TRUE(clients_[c].Say(absl::StrCat(batch, ":", c, ":", i)).ok());
      }
    }
  }

  // Client `c` hears exactly the lines of `batch` from `senders`, each once.
  // Anything else (another batch, a duplicate) fails here or in a later
  // batch's check, since the stream is read in order.
  void ExpectHeardOnce(int c, absl::string_view batch,
                       const std::vector<int>& senders) {
    absl::flat_hash_map<std::string, int> heard;
    const size_t expected = senders.size() * kMessages;
    for (size_t n = 0; n < expected; ++n) {
      absl::StatusOr<std::string> line = clients_[c].Hear();
      ASSERT_TRUE(line.ok()) << "client " << c << " after " << n << " of "
                             << expected << ": " << line.status();
      ASSERT_TRUE(absl::StartsWith(*line, absl::StrCat(batch, ":")))
          << "client " << c << " heard " << *line << " during " << batch;
      ++heard[*line];
    }
    for (int sender : senders) {
      for (int i = 0; i < kMessages; ++i) {
        const std::string line = absl::StrCat(batch, ":", sender, ":", i);
        EXPECT_EQ(heard[line], 1) << "client " << c << ": " << line;
      }
    }
  }

  std::vector<int> Everyone() const {
    std::vector<int> all;
    for (int c = 0; c < kClients; ++c) all.push_back(c);
    return all;
  }
  std::vector<int> SameServerAs(int client) const {
    std::vector<int> local;
    for (int c = 0; c < kClients; ++c) {
      if (ServerOf(c) == ServerOf(client)) local.push_back(c);
    }
    return local;
  }

  RedisProcess redis_;  // outlives the nodes: killed last
  std::vector<std::unique_ptr<ClusterNode>> nodes_;
  std::vector<RoomClient> clients_;
};

TEST_F(RedisClusterTest, EveryMemberOnEveryServerHearsEachMessageOnce) {
  SayBatch("a");
  for (int c = 0; c < kClients; ++c) ExpectHeardOnce(c, "a", Everyone());
  // Each message was published once and reached the two other servers.
  EXPECT_TRUE(WaitFor([&] {
    return Sum(&ClusterBridgeStats::published) ==
           uint64_t{kClients} * kMessages;
  }));
  EXPECT_EQ(Sum(&ClusterBridgeStats::received),
            uint64_t{kClients} * kMessages * (kServers - 1));
  EXPECT_EQ(Sum(&ClusterBridgeStats::own_echoes),
            uint64_t{kClients} * kMessages);
  EXPECT_EQ(Sum(&ClusterBridgeStats::dropped), 0u);
  const std::string metrics = nodes_[0]->server().metrics().Render();
  EXPECT_TRUE(absl::StrContains(metrics, "tao_cluster_connected 1")) << metrics;
}

TEST_F(RedisClusterTest, BroadcastFromAnyThreadReachesEveryConnection) {
  // From the test thread (not a loop): the bridge hops to its loop.
  for (int i = 0; i < kMessages; ++i) {
    const std::string frame =
        testing::TlvFrame(testing::kHeard, absl::StrCat("all:0:", i));
    ASSERT_TRUE(nodes_[0]->bridge().PublishFrame(absl::Cord(frame)).ok());
  }
  for (int c = 0; c < kClients; ++c) ExpectHeardOnce(c, "all", {0});
  EXPECT_EQ(nodes_[1]->bridge().stats().received, uint64_t{kMessages});
  EXPECT_EQ(nodes_[2]->bridge().stats().received, uint64_t{kMessages});
}

TEST_F(RedisClusterTest, SurvivesRedisRestartWithoutRestartingServers) {
  SayBatch("before");
  for (int c = 0; c < kClients; ++c) ExpectHeardOnce(c, "before", Everyone());

  redis_.Kill();
  ASSERT_TRUE(WaitFor([&] { return NoneConnected(); }));
  const uint64_t dropped_before = Sum(&ClusterBridgeStats::dropped);
  const uint64_t received_before = Sum(&ClusterBridgeStats::received);
  SayBatch("down");
  // Local members still hear their own server's messages, once each...
  for (int c = 0; c < kClients; ++c)
    ExpectHeardOnce(c, "down", SameServerAs(c));
  // ... and every message is counted as not sent to the other servers.
  EXPECT_TRUE(WaitFor([&] {
    return Sum(&ClusterBridgeStats::dropped_disconnected) ==
           dropped_before + uint64_t{kClients} * kMessages;
  })) << Sum(&ClusterBridgeStats::dropped_disconnected);
  EXPECT_EQ(Sum(&ClusterBridgeStats::received), received_before);

  absl::Status restarted = redis_.Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_TRUE(WaitFor([&] { return AllConnected(); }))
      << "the bridges did not reconnect";
  for (const auto& node : nodes_) {
    // Both connections of every bridge came back.
    EXPECT_GE(node->bridge().stats().reconnects, 2u);
  }
  const std::string metrics = nodes_[1]->server().metrics().Render();
  EXPECT_TRUE(absl::StrContains(metrics, "tao_cluster_reconnects_total"))
      << metrics;

  // Nothing of the "down" batch arrives late: the next lines each client
  // hears are the "after" batch's, from everyone, once.
  SayBatch("after");
  for (int c = 0; c < kClients; ++c) ExpectHeardOnce(c, "after", Everyone());
}

TEST_F(RedisClusterTest, ForeignMessagesOnTheChannelsAreCountedAndIgnored) {
  // Another publisher on the same channels: not the bridge's payload.
  redisContext* c = redisConnect("127.0.0.1", redis_.port());
  ASSERT_TRUE(c != nullptr && c->err == 0);
  for (const char* channel : {"test:all", "test:group:room"}) {
    auto* reply = static_cast<redisReply*>(
        redisCommand(c, "PUBLISH %s %s", channel, "not a tao payload"));
    ASSERT_NE(reply, nullptr);
    EXPECT_EQ(reply->type, REDIS_REPLY_INTEGER);
    EXPECT_EQ(reply->integer, kServers);  // every bridge is subscribed
    freeReplyObject(reply);
  }
  redisFree(c);
  EXPECT_TRUE(WaitFor([&] {
    return Sum(&ClusterBridgeStats::dropped_bad_payload) == 2 * kServers;
  }));
  // Nobody heard them: the next line each client hears is a real one.
  SayBatch("good");
  for (int c = 0; c < kClients; ++c) ExpectHeardOnce(c, "good", Everyone());
}

class RedisClusterBacklogTest : public RedisClusterTest {
 protected:
  static constexpr size_t kLimit = 16 << 10;
  size_t MaxPendingBytes() const override { return kLimit; }
};

TEST_F(RedisClusterBacklogTest, ASlowRedisCostsBoundedMemory) {
  redis_.Pause();  // connected, answering nothing
  ClusterBridge& bridge = nodes_[0]->bridge();
  constexpr int kFrames = 200;
  const std::string frame =
      testing::TlvFrame(testing::kHeard, std::string(1000, 'x'));
  for (int i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(bridge.PublishFrame(absl::Cord(frame)).ok());
  }
  ClusterBridgeStats stats = bridge.stats();
  EXPECT_LE(stats.pending_bytes, kLimit);
  EXPECT_GE(stats.dropped_backlog, kFrames - kLimit / frame.size());
  // Local members had every one of them.
  for (int c : SameServerAs(0)) {
    for (int i = 0; i < kFrames; ++i) {
      ASSERT_TRUE(clients_[c].Hear().ok()) << i;
    }
  }

  redis_.Resume();
  const uint64_t sent = kFrames - stats.dropped_backlog;
  ASSERT_TRUE(WaitFor([&] {
    const ClusterBridgeStats now = bridge.stats();
    return now.pending_bytes == 0 && now.published == sent;
  })) << bridge.stats().published
      << " of " << sent;
  EXPECT_TRUE(WaitFor([&] {
    return nodes_[1]->bridge().stats().received == sent &&
           nodes_[2]->bridge().stats().received == sent;
  }));
}

}  // namespace
}  // namespace tao
