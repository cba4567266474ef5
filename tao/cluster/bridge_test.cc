// ClusterBridge without Redis: option checks, the Start/Stop contract, and
// Redis being unreachable (local delivery goes on, remote delivery is
// counted as dropped). With a real redis-server: redis_cluster_test.
#include "tao/cluster/bridge.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tao/message/options.h"
#include "tao/message/server.h"
#include "tao/testing/cluster_node.h"
#include "tao/testing/redis_process.h"

namespace tao {
namespace {

using ::tao::testing::ClusterNode;
using ::tao::testing::RoomClient;
using ::tao::testing::WaitFor;

// Redis options pointing at a loopback port nobody listens on.
ClusterBridgeOptions Unreachable() {
  absl::StatusOr<uint16_t> port = testing::PickFreePort();
  EXPECT_TRUE(port.ok()) << port.status();
  ClusterBridgeOptions options;
  options.redis_address = absl::StrCat("127.0.0.1:", port.value_or(1));
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(20);
  return options;
}

ServerOptions OneLoop() {
  ServerOptions options;
  options.io_threads = 1;
  return options;
}

class StartedServer {
 public:
  StartedServer() : server_(OneLoop(), nullptr) {
    EXPECT_TRUE(server_.Listen("127.0.0.1:0").ok());
    EXPECT_TRUE(server_.Start().ok());
  }
  ~StartedServer() {
    server_.Stop(absl::Seconds(1));
    server_.Join();
  }
  Server& get() { return server_; }

 private:
  Server server_;
};

TEST(ClusterBridgeTest, StartNeedsAStartedServer) {
  Server server(ServerOptions{}, nullptr);
  ClusterBridge bridge(server, Unreachable());
  EXPECT_EQ(bridge.Start().code(), absl::StatusCode::kFailedPrecondition);
  bridge.Stop();  // harmless
}

TEST(ClusterBridgeTest, RejectsBadOptions) {
  StartedServer server;
  auto start = [&](auto edit) {
    ClusterBridgeOptions options = Unreachable();
    edit(options);
    ClusterBridge bridge(server.get(), options);
    return bridge.Start().code();
  };
  EXPECT_EQ(start([](auto& o) { o.redis_address = "localhost:6379"; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.redis_address = "127.0.0.1"; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.channel_prefix = "chat*"; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.max_pending_bytes = 0; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.max_backoff = absl::ZeroDuration(); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto&) {}), absl::StatusCode::kOk);
}

TEST(ClusterBridgeTest, PublishBeforeStartDeliversNothing) {
  StartedServer server;
  ClusterBridge bridge(server.get(), Unreachable());
  EXPECT_EQ(bridge.PublishFrame(absl::Cord("x")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bridge.stats().dropped, 0u);
}

TEST(ClusterBridgeTest, StartsOnceAndStopsIdempotently) {
  StartedServer server;
  ClusterBridge bridge(server.get(), Unreachable());
  ASSERT_TRUE(bridge.Start().ok());
  EXPECT_EQ(bridge.Start().code(), absl::StatusCode::kFailedPrecondition);
  bridge.Stop();
  bridge.Stop();
  EXPECT_FALSE(bridge.connected());
  EXPECT_EQ(bridge.Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClusterBridgeTest, AStoppedBridgeDoesNotStart) {
  StartedServer server;
  ClusterBridge bridge(server.get(), Unreachable());
  bridge.Stop();
  EXPECT_EQ(bridge.Start().code(), absl::StatusCode::kFailedPrecondition);
}

// The clients close (end of scope) before the node shuts down, so its
// graceful stop does not wait for them.
void ExpectLocalDeliveryWithoutRedis(ClusterNode& node) {
  absl::StatusOr<RoomClient> ann = RoomClient::Join(node.address(), "room");
  absl::StatusOr<RoomClient> bob = RoomClient::Join(node.address(), "room");
  absl::StatusOr<RoomClient> other = RoomClient::Join(node.address(), "hall");
  ASSERT_TRUE(ann.ok() && bob.ok() && other.ok());
  EXPECT_FALSE(node.bridge().connected());

  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(ann->Say(absl::StrCat("ann:", i)).ok());
  }
  ASSERT_TRUE(other->Say("hall:0").ok());
  for (int i = 0; i < kMessages; ++i) {
    // In order, once each (a duplicate would shift every later one).
    EXPECT_EQ(ann->Hear().value_or("?"), absl::StrCat("ann:", i));
    EXPECT_EQ(bob->Hear().value_or("?"), absl::StrCat("ann:", i));
  }
  // The other room's message only reaches its member; the room's did not.
  EXPECT_EQ(other->Hear().value_or("?"), "hall:0");

  // Counted after the local delivery, on the handler's loop.
  EXPECT_TRUE(WaitFor([&] {
    return node.bridge().stats().dropped_disconnected == kMessages + 1;
  }));
  const ClusterBridgeStats stats = node.bridge().stats();
  EXPECT_EQ(stats.dropped, kMessages + 1u);
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(stats.received, 0u);
  EXPECT_EQ(stats.pending_bytes, 0u);

  const std::string metrics = node.server().metrics().Render();
  EXPECT_TRUE(absl::StrContains(
      metrics,
      absl::StrCat("tao_cluster_dropped_total{reason=\"disconnected\"} ",
                   kMessages + 1)))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "tao_cluster_connected 0")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "tao_cluster_published_total 0"));
}

TEST(ClusterBridgeTest, WithoutRedisLocalMembersGetEachMessageOnce) {
  ClusterNode node(Unreachable());
  ASSERT_TRUE(node.Start().ok());
  ExpectLocalDeliveryWithoutRedis(node);
  node.Shutdown();
}

}  // namespace
}  // namespace tao
