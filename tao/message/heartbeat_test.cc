// Heartbeats, idle detection and connection-bound timers on loopback.
#include "tao/message/heartbeat.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace {

using ::tao::testing::kTimeout;
using ::tao::testing::TestPeer;

constexpr absl::Duration kHeartbeatTimeout = absl::Milliseconds(300);

// A Go tao heartbeat frame, written out by hand from the wire format:
// type 0 (int32 LE), length 8 (uint32 LE), then the int64 LE timestamp
// 1700000000123456789 ns = 0x17979CFE3D85CD15.
const char kGoHeartbeatFrame[] =
    "\x00\x00\x00\x00"
    "\x08\x00\x00\x00"
    "\x15\xcd\x85\x3d\xfe\x9c\x97\x17";

HeartbeatOptions Timeout(absl::Duration timeout) {
  HeartbeatOptions options;
  options.timeout = timeout;
  return options;
}

// Records errors and closes of a server's connections.
class Events {
 public:
  void Error(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    errors_.push_back(status);
  }
  void Close(Connection& c) {
    absl::MutexLock lock(&mu_);
    closes_.push_back(c.close_reason());
    close_times_.push_back(absl::Now());
  }
  std::vector<absl::Time> close_times() {
    absl::MutexLock lock(&mu_);
    return close_times_;
  }
  bool WaitForCloses(size_t n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closes_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kTimeout);
  }
  std::vector<absl::Status> errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  std::vector<absl::Status> closes() {
    absl::MutexLock lock(&mu_);
    return closes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> closes_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> close_times_ ABSL_GUARDED_BY(mu_);
};

class HeartbeatTest : public ::testing::Test {
 protected:
  // `before_start` may add or replace callbacks: the On* setters must run
  // before Start.
  void StartServer(HeartbeatOptions heartbeat,
                   std::function<void(Server&)> before_start = nullptr) {
    ASSERT_TRUE(registry_
                    .RegisterRaw(1,
                                 [](Context& ctx, absl::string_view payload) {
                                   (void)ctx.ReplyRaw(1, payload);
                                 })
                    .ok());
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = 0;
    options.heartbeat = heartbeat;
    server_ = std::make_unique<Server>(options, &registry_);
    server_->OnError(
        [this](Connection&, const absl::Status& s) { events_.Error(s); });
    server_->OnClose([this](Connection& c) { events_.Close(c); });
    server_->OnIdle([this](Connection&, IdleKind kind) {
      if (kind == IdleKind::kReaderIdle) ++reader_idle_;
      if (kind == IdleKind::kWriterIdle) ++writer_idle_;
      if (!idle_seen_.HasBeenNotified()) idle_seen_.Notify();
    });
    if (before_start) before_start(*server_);
    ASSERT_TRUE(server_->Listen("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Stop(absl::Seconds(1));
      server_->Join();
    }
  }

  // Waits until `pred` holds, evaluating it every `period` on the server's
  // first loop (through Sched, so no sleeping here). The periodic callback
  // owns its state: it may outlive this call until its cancel is processed.
  bool WaitOnLoop(std::function<bool()> pred,
                  absl::Duration period = absl::Milliseconds(5)) {
    struct Shared {
      absl::Notification met;
      std::atomic<bool> notified{false};
    };
    auto shared = std::make_shared<Shared>();
    absl::StatusOr<TimerId> id = server_->Sched(period, [shared, pred] {
      if (!shared->notified.load() && pred() &&
          !shared->notified.exchange(true)) {
        shared->met.Notify();
      }
    });
    if (!id.ok()) return false;
    const bool met = shared->met.WaitForNotificationWithTimeout(kTimeout);
    server_->CancelSched(*id);
    return met;
  }

  bool WaitForStats(std::function<bool(const ServerStats&)> pred) {
    return WaitOnLoop([this, pred] { return pred(server_->stats()); });
  }

  Registry registry_;
  std::unique_ptr<Server> server_;
  Events events_;
  std::atomic<int> reader_idle_{0};
  std::atomic<int> writer_idle_{0};
  absl::Notification idle_seen_;
};

TEST_F(HeartbeatTest, SilentPeerIsClosedAfterTimeoutNotBefore) {
  StartServer(Timeout(kHeartbeatTimeout));
  const absl::Time start = absl::Now();
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->listen_address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(peer->ExpectEof().ok());  // FIN from the server
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, kHeartbeatTimeout);
  ASSERT_TRUE(events_.WaitForCloses(1));
  EXPECT_TRUE(absl::IsDeadlineExceeded(events_.closes()[0]))
      << events_.closes()[0];
  ASSERT_EQ(events_.errors().size(), 1u);
  EXPECT_EQ(server_->stats().closed_idle, 1u);
}

TEST_F(HeartbeatTest, HandWrittenGoTaoHeartbeatIsAcceptedAndCounted) {
  StartServer(Timeout(absl::Seconds(30)));
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->listen_address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(peer->WriteAll(absl::string_view(kGoHeartbeatFrame, 16)).ok());
  // A normal frame after it still works: the heartbeat was consumed whole.
  absl::StatusOr<std::string> echo = peer->Exchange(
      absl::string_view("\x01\x00\x00\x00\x02\x00\x00\x00hi", 10), 10);
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->substr(8), "hi");
  EXPECT_EQ(server_->stats().heartbeats, 1u);
  EXPECT_TRUE(events_.errors().empty());
}

TEST_F(HeartbeatTest, ClientHeartbeatsKeepAnIdleConnectionAlive) {
  StartServer(Timeout(kHeartbeatTimeout));
  Registry client_registry;
  ClientOptions options;
  options.handler_threads = 0;
  options.heartbeat.interval = absl::Milliseconds(50);
  Client client(options, &client_registry);
  ASSERT_TRUE(client.Connect(server_->listen_address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected(kTimeout).ok());
  // 12 heartbeats take at least 600 ms: twice the server's timeout.
  ASSERT_TRUE(
      WaitForStats([](const ServerStats& s) { return s.heartbeats >= 12; }));
  EXPECT_EQ(server_->stats().closed_idle, 0u);
  EXPECT_EQ(server_->connection_count(), 1u);
  ASSERT_NE(client.connection(), nullptr);
  client.Stop();
}

TEST_F(HeartbeatTest, SlowReaderIsKeptWhileDrainingThenClosedWhenSilent) {
  StartServer(Timeout(kHeartbeatTimeout));
  constexpr size_t kBytes = size_t{1} << 20;
  TestPeer::Options small_window;
  small_window.receive_buffer = 16384;
  absl::StatusOr<TestPeer> peer =
      TestPeer::Connect(server_->listen_address(), small_window);
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(
      WaitForStats([](const ServerStats& s) { return s.connections == 1; }));
  ASSERT_EQ(server_->tcp().Broadcast(absl::Cord(std::string(kBytes, 'z'))), 1u);
  // The peer never sends, and reads slowly: 16 KiB every 20 ms takes over
  // a second, several times the 300 ms timeout, to drain 1 MiB. The sleep
  // paces the reader; it synchronizes nothing. A server that takes the slow
  // reader for a dead one closes early: read(2) then returns 0 (FIN) or
  // fails (RST), and the test fails at once, saying so.
  size_t received = 0;
  char chunk[16384];
  const absl::Time deadline = absl::Now() + kTimeout;
  while (received < kBytes) {
    const ssize_t n = ::read(peer->fd(), chunk, sizeof(chunk));
    if (n == 0) {
      FAIL() << "the server closed the connection after " << received << " of "
             << kBytes
             << " bytes: a slow but draining reader was closed as idle";
    }
    if (n < 0) {
      const int error = errno;
      ASSERT_TRUE(error == EAGAIN || error == EWOULDBLOCK)
          << "read failed after " << received << " of " << kBytes
          << " bytes: " << ::strerror(error)
          << " (the server dropped a slow but draining reader)";
    } else {
      received += static_cast<size_t>(n);
    }
    ASSERT_LT(absl::Now(), deadline) << "only " << received << " of " << kBytes
                                     << " bytes arrived within " << kTimeout;
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Time drained = absl::Now();
  EXPECT_EQ(received, kBytes);
  // Drained, the peer is now merely silent: that one is closed, but only
  // after the whole slow drain.
  ASSERT_TRUE(events_.WaitForCloses(1));
  EXPECT_GE(events_.close_times()[0], drained);
  EXPECT_TRUE(absl::IsDeadlineExceeded(events_.closes()[0]));
}

TEST_F(HeartbeatTest, ReaderIdleCallbackFiresWithoutClosing) {
  HeartbeatOptions options;
  options.reader_idle = absl::Milliseconds(100);
  StartServer(options);
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->listen_address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(idle_seen_.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_GE(reader_idle_.load(), 1);
  EXPECT_EQ(server_->connection_count(), 1u);
  EXPECT_EQ(server_->stats().closed_idle, 0u);
}

TEST_F(HeartbeatTest, ConnectionTimersNeverRunAfterClose) {
  std::atomic<int> ticks{0};
  std::atomic<bool> closed{false};
  std::atomic<bool> ran_after_close{false};
  absl::Notification three_ticks;
  StartServer({}, [&](Server& server) {
    server.OnConnect([&](Connection& c) {
      c.RunEvery(absl::Milliseconds(2), [&](Connection&) {
        if (closed.load()) ran_after_close = true;
        if (++ticks == 3) three_ticks.Notify();
      });
      // A one-shot far in the future: cancelled by the close, never runs.
      c.RunAfter(absl::Milliseconds(50),
                 [&](Connection&) { ran_after_close = true; });
      return true;
    });
    server.OnClose([&](Connection&) { closed = true; });
  });
  {
    absl::StatusOr<TestPeer> peer =
        TestPeer::Connect(server_->listen_address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    ASSERT_TRUE(three_ticks.WaitForNotificationWithTimeout(kTimeout));
  }  // the peer closes
  ASSERT_TRUE(
      WaitForStats([](const ServerStats& s) { return s.connections == 0; }));
  // Let the loop pass the one-shot's deadline.
  ASSERT_TRUE(WaitOnLoop([] { return true; }, absl::Milliseconds(100)));
  EXPECT_FALSE(ran_after_close.load());
}

// Clients share loops (a gateway's upstreams come and go): a client with
// idle checks, destroyed while its loop runs on, must take its heartbeat
// machinery with it (the loop's tick of its timing wheel included), and a
// later client on the same loop must get working idle checks of its own.
TEST_F(HeartbeatTest, ClientOnSharedLoopsCanGoAwayWhileTheLoopsRunOn) {
  StartServer({});
  absl::Notification ticked;  // outlive the loops, which notify them
  absl::Notification idle;
  EventLoopThreadPool loops(1);
  loops.Start();
  Registry client_registry;
  ClientOptions options;
  options.heartbeat.reader_idle = absl::Milliseconds(40);  // 5 ms ticks
  {
    Client client(options, &client_registry, &loops);
    ASSERT_TRUE(client.Connect(server_->listen_address().ToString()).ok());
    ASSERT_TRUE(client.WaitConnected(kTimeout).ok());
    client.Stop();
  }
  // The loop runs on for many ticks of the client that is gone.
  loops.loop(0)->RunAfter(absl::Milliseconds(100), [&] { ticked.Notify(); });
  ASSERT_TRUE(ticked.WaitForNotificationWithTimeout(kTimeout));

  Client second(options, &client_registry, &loops);
  second.OnIdle([&](Connection&, IdleKind kind) {
    if (kind == IdleKind::kReaderIdle && !idle.HasBeenNotified()) {
      idle.Notify();
    }
  });
  ASSERT_TRUE(second.Connect(server_->listen_address().ToString()).ok());
  ASSERT_TRUE(second.WaitConnected(kTimeout).ok());
  EXPECT_TRUE(idle.WaitForNotificationWithTimeout(kTimeout));
  second.Stop();
  loops.Stop();
}

TEST(HeartbeatPayloadTest, IsGoTaoInt64LittleEndianNanoseconds) {
  const std::string payload =
      EncodeHeartbeatPayload(absl::FromUnixNanos(1700000000123456789));
  EXPECT_EQ(payload, std::string(kGoHeartbeatFrame + 8, 8));
}

}  // namespace
}  // namespace tao
