// RedisConnection without a Redis server: address parsing, the backoff
// schedule, and retries against a port nobody listens on. The real-Redis
// behaviour (commands, subscriptions, reconnects) is in redis_cluster_test.
#include "tao/cluster/redis_connection.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/event_loop.h"
#include "tao/testing/redis_process.h"

namespace tao {
namespace {

TEST(ParseRedisAddressTest, NumericHostsAndPorts) {
  RedisConnectionOptions o;
  ASSERT_TRUE(ParseRedisAddress("127.0.0.1:6380", &o).ok());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 6380);
  ASSERT_TRUE(ParseRedisAddress("[::1]:7000", &o).ok());
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 7000);
}

TEST(ParseRedisAddressTest, RejectsNamesAndBadPorts) {
  RedisConnectionOptions o;
  for (const char* bad : {"localhost:6379", "127.0.0.1", "127.0.0.1:0",
                          "127.0.0.1:70000", "127.0.0.1:x", ":6379"}) {
    EXPECT_EQ(ParseRedisAddress(bad, &o).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(RedisConnectionTest, BackoffDoublesUpToTheCap) {
  RedisConnectionOptions o;
  o.initial_backoff = absl::Milliseconds(100);
  o.max_backoff = absl::Milliseconds(750);
  EXPECT_EQ(RedisConnection::BackoffFor(o, 1), absl::Milliseconds(100));
  EXPECT_EQ(RedisConnection::BackoffFor(o, 2), absl::Milliseconds(200));
  EXPECT_EQ(RedisConnection::BackoffFor(o, 3), absl::Milliseconds(400));
  EXPECT_EQ(RedisConnection::BackoffFor(o, 4), absl::Milliseconds(750));
  EXPECT_EQ(RedisConnection::BackoffFor(o, 1000), absl::Milliseconds(750));
}

TEST(RedisConnectionTest, KeepsRetryingARefusedConnectUntilStopped) {
  // A loopback port nobody listens on: every connect is refused.
  absl::StatusOr<int> closed_port = testing::PickFreePort();
  ASSERT_TRUE(closed_port.ok()) << closed_port.status();
  absl::Notification stopped;
  std::atomic<bool> connected_once{false};
  std::thread loop_thread([&] {
    EventLoop loop;
    RedisConnectionOptions o;
    o.port = *closed_port;
    o.initial_backoff = absl::Milliseconds(1);
    o.max_backoff = absl::Milliseconds(4);
    RedisConnection redis(&loop, o,
                          {.on_connected = [&] { connected_once = true; },
                           .on_disconnected = nullptr});
    redis.Start();
    // Long enough for several refused attempts and retries.
    loop.RunAfter(absl::Milliseconds(60), [&] {
      EXPECT_FALSE(redis.connected());
      EXPECT_EQ(redis.Command({"PING"}, nullptr).code(),
                absl::StatusCode::kUnavailable);
      redis.Stop();
      loop.Quit();
    });
    loop.Run();
    stopped.Notify();
  });
  EXPECT_TRUE(stopped.WaitForNotificationWithTimeout(absl::Seconds(10)));
  loop_thread.join();
  EXPECT_FALSE(connected_once);
}

}  // namespace
}  // namespace tao
