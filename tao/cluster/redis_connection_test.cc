// RedisConnection without a Redis server: address parsing, the backoff
// schedule, and retries against a port nobody listens on. The real-Redis
// behaviour (commands, subscriptions, reconnects) is in redis_cluster_test.
#include "tao/cluster/redis_connection.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
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
  absl::StatusOr<uint16_t> closed_port = testing::PickFreePort();
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

// A listener that never accepts, its accept queue full: the kernel drops
// further SYNs, so a connect neither succeeds nor fails by itself.
TEST(RedisConnectionTest, AConnectThatHangsTimesOutAndIsRetried) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  // Fill the accept queue (non-blocking connects; some complete, the rest
  // hang).
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd =
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
    fillers.push_back(fd);
  }

  absl::Notification done;
  std::thread loop_thread([&] {
    EventLoop loop;
    RedisConnectionOptions o;
    o.port = ntohs(addr.sin_port);
    o.connect_timeout = absl::Milliseconds(20);
    o.initial_backoff = absl::Milliseconds(1);
    o.max_backoff = absl::Milliseconds(2);
    RedisConnection redis(&loop, o, {});
    const absl::Time start = absl::Now();
    redis.Start();
    // Each attempt ends by its timeout (20 ms) and a retry follows.
    loop.RunEvery(absl::Milliseconds(5), [&] {
      if (redis.attempts() < 4) return;
      EXPECT_FALSE(redis.connected());
      // Three attempts ended by their timeout, not by a refusal.
      EXPECT_GE(absl::Now() - start, 3 * o.connect_timeout);
      redis.Stop();
      loop.Quit();
    });
    loop.Run();
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  loop_thread.join();
  for (int fd : fillers) close(fd);
  close(listener);
}

}  // namespace
}  // namespace tao
