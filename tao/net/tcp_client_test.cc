// Loopback integration tests for tao::TcpClient: connecting and echoing,
// refused connects, reconnection after a server restart, the give-up
// policy, graceful Stop, the client side of the connection events, host
// names, and many clients sharing one loop pool.
#include "tao/net/tcp_client.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/resolver.h"
#include "tao/net/socket.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace {

using ::tao::testing::ConnectionTracker;
using ::tao::testing::Echo;
using ::tao::testing::kTimeout;
using ::tao::testing::kTsan;
using ::tao::testing::RandomBytes;
using ::tao::testing::TestServer;

constexpr size_t kChunk = 64 << 10;

// Bytes received through a DataCallback, with a blocking wait.
class Received {
 public:
  DataCallback Sink() {
    return [this](Connection&, Buffer& in) {
      absl::MutexLock lock(&mu_);
      data_.append(in.view().data(), in.view().size());
      in.RetrieveAll();
    };
  }
  bool WaitForSize(size_t n, absl::Duration timeout = kTimeout) const {
    absl::MutexLock lock(&mu_);
    auto cond = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return data_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  std::string data() const {
    absl::MutexLock lock(&mu_);
    return data_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string data_ ABSL_GUARDED_BY(mu_);
};

// OnConnectFailed calls, in order.
class ConnectFailures {
 public:
  struct Failure {
    absl::Status error;
    bool will_retry;
  };
  TcpClient::ConnectFailedCallback Callback() {
    return [this](const absl::Status& error, bool will_retry) {
      absl::MutexLock lock(&mu_);
      failures_.push_back({error, will_retry});
    };
  }
  bool WaitFor(size_t n, absl::Duration timeout = kTimeout) const {
    absl::MutexLock lock(&mu_);
    auto cond = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return failures_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  std::vector<Failure> all() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Failure> failures_ ABSL_GUARDED_BY(mu_);
};

// A loopback port where a connect is refused. The socket stays bound but
// never listens: connects get RST ("Connection refused") exactly as with a
// closed port, and since the port stays taken, the kernel cannot pick it as
// the client's ephemeral port (no self-connect, no other process).
struct RefusingPort {
  RefusingPort() {
    absl::StatusOr<Socket> s = Socket::Create(AF_INET);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return;
    socket = *std::move(s);
    EXPECT_TRUE(socket.Bind(InetAddress::Loopback(0)).ok());
    absl::StatusOr<InetAddress> bound = socket.LocalAddress();
    EXPECT_TRUE(bound.ok()) << bound.status();
    if (bound.ok()) port = bound->port();
  }
  std::string address() const { return InetAddress::Loopback(port).ToString(); }

  Socket socket;
  uint16_t port = 0;
};

bool IsConnectionRefused(const absl::Status& error) {
  return error.code() == absl::StatusCode::kUnavailable &&
         absl::StrContains(absl::AsciiStrToLower(error.message()), "refused");
}

// The fixture's members outlive the clients and servers each test declares
// in its body (they are destroyed first), so callbacks may capture them.
// Reconnecting from 10 ms on, up to `max_backoff` between attempts.
TcpClientOptions Retrying(absl::Duration max_backoff) {
  TcpClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = max_backoff;
  return options;
}

// Many clients, each with its own tracker (connection ids are per client)
// and its own received bytes. The clients are declared last, so they are
// destroyed (stopped) before what their handlers use.
struct Swarm {
  TcpClient& Add(EventLoopThreadPool* loops = nullptr) {
    trackers.push_back(std::make_unique<ConnectionTracker>());
    received.push_back(std::make_unique<Received>());
    clients.push_back(std::make_unique<TcpClient>(
        TcpClientOptions(),
        testing::Tracked(*trackers.back(),
                         {.on_data = received.back()->Sink()}),
        loops));
    return *clients.back();
  }

  std::vector<std::unique_ptr<ConnectionTracker>> trackers;
  std::vector<std::unique_ptr<Received>> received;
  std::vector<std::unique_ptr<TcpClient>> clients;
};

class ClientTest : public ::testing::Test {
 protected:
  void StartEchoServer(absl::string_view address = "127.0.0.1:0") {
    server_ = std::make_unique<TestServer>();
    absl::Status started =
        server_->Start({.on_data = server_received_.Sink()}, address);
    ASSERT_TRUE(started.ok()) << started;
  }

  // Connects `client` to `address`, which refuses, until `n` attempts
  // failed; stops the client and returns every failure it reported.
  std::vector<ConnectFailures::Failure> FailedAttempts(
      TcpClient& client, const std::string& address, size_t n) {
    client.OnConnectFailed(failures_.Callback());
    EXPECT_TRUE(client.Connect(address).ok());
    EXPECT_TRUE(failures_.WaitFor(n));
    client.Stop();
    return failures_.all();
  }

  // A client connecting to an echo server on 127.0.0.1 through `host`, a
  // name for it, echoes one message and stops without a failed attempt.
  void EchoesThroughAName(const std::string& host) {
    server_ = std::make_unique<TestServer>();
    ASSERT_TRUE(server_->Start({.on_data = Echo()}, "127.0.0.1:0").ok());
    TcpClient client(TcpClientOptions(),
                     testing::Tracked(tracker_, {.on_data = received_.Sink()}));
    client.OnConnectFailed(failures_.Callback());
    ASSERT_TRUE(
        client.Connect(absl::StrCat(host, ":", server_->address().port()))
            .ok());
    absl::Status connected = client.WaitConnected(kTimeout);
    ASSERT_TRUE(connected.ok()) << host << ": " << connected;
    ConnectionPtr conn = client.connection();
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(conn->peer_address(), server_->address());
    ASSERT_TRUE(client.Send("by name").ok());
    ASSERT_TRUE(received_.WaitForSize(7));
    EXPECT_EQ(received_.data(), "by name");
    client.Stop();
    EXPECT_TRUE(failures_.all().empty());
  }

  // A server that drops every connection on its first byte.
  void StartClosingServer() {
    server_ = std::make_unique<TestServer>();
    ASSERT_TRUE(server_
                    ->Start({.on_data =
                                 [](Connection& c, Buffer& in) {
                                   in.RetrieveAll();
                                   c.Close();
                                 }})
                    .ok());
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->StopAndJoin();
      EXPECT_TRUE(server_->tracker().CheckBalanced());
    }
    EXPECT_TRUE(tracker_.CheckBalanced());
  }

  // Client-side tracking and data.
  ConnectionTracker tracker_;
  Received received_;
  ConnectFailures failures_;
  // Server-side data (when the server records instead of echoing).
  Received server_received_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ClientTest, ConnectsAndEchoes) {
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(server_->Start({.on_data = Echo()}).ok());

  TcpClient client(TcpClientOptions(),
                   testing::Tracked(tracker_, {.on_data = received_.Sink()}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  ConnectionPtr conn = client.connection();
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(conn->connected());
  EXPECT_EQ(conn->peer_address(), server_->address());

  const size_t kBytes = kTsan ? (1 << 20) : (4 << 20);
  const std::string payload = RandomBytes(kBytes, 11);
  for (size_t at = 0; at < kBytes; at += kChunk) {
    absl::Status sent =
        client.Send(absl::string_view(payload).substr(at, kChunk));
    ASSERT_TRUE(sent.ok()) << sent;
  }
  ASSERT_TRUE(received_.WaitForSize(kBytes));
  EXPECT_TRUE(received_.data() == payload);

  client.Stop();
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_TRUE(tracker_.All().at(0).close_reason.ok());
  EXPECT_EQ(client.connection(), nullptr);
  EXPECT_TRUE(failures_.all().empty());
  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  EXPECT_TRUE(server_->tracker().All().at(0).close_reason.ok());
}

TEST_F(ClientTest, SendWithoutAConnectionIsUnavailable) {
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  absl::Status sent = client.Send("x");
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable) << sent;
  EXPECT_EQ(client.connection(), nullptr);
  client.Stop();  // never connected: a no-op
}

TEST_F(ClientTest, ConnectArgumentErrors) {
  StartEchoServer();
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  absl::Status bad = client.Connect("bogus");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  absl::Status twice = client.Connect(server_->address().ToString());
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition) << twice;
  client.Stop();
}

TEST_F(ClientTest, ConnectToAClosedPortReportsRefusedWithoutRetry) {
  const RefusingPort closed;
  ASSERT_NE(closed.port, 0);
  // Reconnect disabled (the default).
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  const std::vector<ConnectFailures::Failure> all =
      FailedAttempts(client, closed.address(), 1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(IsConnectionRefused(all[0].error)) << all[0].error;
  EXPECT_FALSE(all[0].will_retry);
  EXPECT_EQ(tracker_.connects(), 0u);
  EXPECT_EQ(client.connection(), nullptr);
}

TEST_F(ClientTest, GivesUpAfterMaxAttempts) {
  const RefusingPort closed;
  ASSERT_NE(closed.port, 0);
  TcpClientOptions options = Retrying(absl::Milliseconds(100));
  options.reconnect.max_attempts = 3;
  TcpClient client(options, testing::Tracked(tracker_, {}));
  const std::vector<ConnectFailures::Failure> all =
      FailedAttempts(client, closed.address(), 3);
  ASSERT_EQ(all.size(), 3u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(IsConnectionRefused(all[i].error)) << i << ": " << all[i].error;
    EXPECT_EQ(all[i].will_retry, i + 1 < all.size()) << "attempt " << i + 1;
  }
  EXPECT_EQ(tracker_.connects(), 0u);
}

TEST_F(ClientTest, ReconnectsAfterTheServerRestarts) {
  TcpClientOptions options = Retrying(absl::Milliseconds(100));

  auto a = std::make_unique<TestServer>();
  ASSERT_TRUE(a->Start({.on_data = Echo()}).ok());
  const InetAddress address = a->address();

  TcpClient client(options,
                   testing::Tracked(tracker_, {.on_data = received_.Sink()}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(address.ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  ASSERT_TRUE(client.Send("ping").ok());
  ASSERT_TRUE(received_.WaitForSize(4));

  // Server A goes away: the client sees its connection close...
  a->StopAndJoin();
  EXPECT_TRUE(a->tracker().CheckBalanced());
  a.reset();
  ASSERT_TRUE(tracker_.WaitForCloses(1));

  // ...and server B comes up on the same port (SO_REUSEADDR).
  TestServer b;
  absl::Status started = b.Start({.on_data = Echo()}, address.ToString());
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_EQ(b.address(), address);
  ASSERT_TRUE(tracker_.WaitForConnects(2)) << "the client never reconnected";
  ASSERT_TRUE(client.Send("again").ok());
  ASSERT_TRUE(received_.WaitForSize(9));
  EXPECT_EQ(received_.data(), "pingagain");

  client.Stop();
  b.StopAndJoin();
  EXPECT_TRUE(b.tracker().CheckBalanced());
  EXPECT_EQ(tracker_.connects(), 2u);
  EXPECT_EQ(tracker_.closes(), 2u);
  for (const ConnectFailures::Failure& f : failures_.all()) {
    EXPECT_TRUE(f.will_retry) << f.error;  // no give-up policy
  }
}

TEST_F(ClientTest, ServerCloseRunsTheClientsOnCloseOnce) {
  ASSERT_NO_FATAL_FAILURE(StartClosingServer());
  TcpClient client(TcpClientOptions(),
                   testing::Tracked(tracker_, {.on_data = received_.Sink()}));
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  ASSERT_TRUE(client.Send("close me").ok());
  ASSERT_TRUE(tracker_.WaitForSettled(1));
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_TRUE(tracker_.All().at(0).close_reason.ok())
      << tracker_.All().at(0).close_reason;
  // No reconnect by default: the client stays disconnected.
  EXPECT_EQ(client.connection(), nullptr);
  absl::Status sent = client.Send("x");
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable) << sent;
  client.Stop();
}

TEST_F(ClientTest, StopFlushesQueuedOutputBeforeClosing) {
  StartEchoServer();  // records what arrives instead of echoing
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  const size_t kBytes = kTsan ? (1 << 20) : (4 << 20);
  const std::string payload = RandomBytes(kBytes, 12);
  for (size_t at = 0; at < kBytes; at += kChunk) {
    ASSERT_TRUE(
        client.Send(absl::string_view(payload).substr(at, kChunk)).ok());
  }
  client.Stop();  // graceful: everything queued is delivered, then FIN
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_TRUE(tracker_.All().at(0).close_reason.ok())
      << tracker_.All().at(0).close_reason;
  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  EXPECT_EQ(server_received_.data().size(), kBytes);
  EXPECT_TRUE(server_received_.data() == payload);
  EXPECT_TRUE(server_->tracker().All().at(0).close_reason.ok());
}

TEST_F(ClientTest, OnConnectReturningFalseClosesAndRunsOnCloseOnce) {
  StartEchoServer();
  TcpClient client(TcpClientOptions(),
                   testing::Tracked(tracker_, {.on_connect = [](Connection&) {
                                      return false;
                                    }}));
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForSettled(1));
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_TRUE(tracker_.All().at(0).refused);
  EXPECT_EQ(client.connection(), nullptr);
  // The server sees the client go away.
  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  client.Stop();
}

TEST_F(ClientTest, EchoesOverAUnixDomainSocket) {
  server_ = std::make_unique<TestServer>();
  const std::string address = testing::UnixSocketAddress("client.sock");
  absl::Status started = server_->Start({.on_data = Echo()}, address);
  ASSERT_TRUE(started.ok()) << started;
  TcpClient client(TcpClientOptions(),
                   testing::Tracked(tracker_, {.on_data = received_.Sink()}));
  ASSERT_TRUE(client.Connect(address).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  const std::string payload = RandomBytes(256 << 10, 13);
  ASSERT_TRUE(client.Send(payload).ok());
  ASSERT_TRUE(received_.WaitForSize(payload.size()));
  EXPECT_TRUE(received_.data() == payload);
  client.Stop();
}

TEST_F(ClientTest, DestructorStopsTheClient) {
  StartEchoServer();
  {
    TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
    ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
    ASSERT_TRUE(tracker_.WaitForConnects(1));
  }  // ~TcpClient: Stop()
  EXPECT_EQ(tracker_.closes(), 1u);
  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  EXPECT_EQ(server_->server().connection_count(), 0u);
}

TEST_F(ClientTest, ManyClientsAgainstOneServer) {
  const size_t kClients = kTsan ? 10 : 50;
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(server_->Start({.on_data = Echo()}).ok());
  Swarm swarm;
  for (size_t i = 0; i < kClients; ++i) {
    ASSERT_TRUE(swarm.Add().Connect(server_->address().ToString()).ok());
  }
  for (auto& tracker : swarm.trackers) ASSERT_TRUE(tracker->WaitForConnects(1));
  std::vector<std::string> payloads;
  for (size_t i = 0; i < kClients; ++i) {
    payloads.push_back(RandomBytes(16 << 10, 1000 + i));
    ASSERT_TRUE(swarm.clients[i]->Send(payloads[i]).ok());
  }
  for (size_t i = 0; i < kClients; ++i) {
    ASSERT_TRUE(swarm.received[i]->WaitForSize(payloads[i].size()));
    EXPECT_TRUE(swarm.received[i]->data() == payloads[i]) << "client " << i;
  }
  swarm.clients.clear();  // each ~TcpClient stops
  for (auto& tracker : swarm.trackers) {
    EXPECT_EQ(tracker->closes(), 1u);
    EXPECT_TRUE(tracker->CheckBalanced());
  }
  ASSERT_TRUE(server_->tracker().WaitForSettled(kClients));
}

TEST_F(ClientTest, StopWhileRetryingEndsQuietly) {
  const RefusingPort closed;
  ASSERT_NE(closed.port, 0);
  TcpClientOptions options = Retrying(absl::Milliseconds(20));
  TcpClient client(options, testing::Tracked(tracker_, {}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(closed.address()).ok());
  ASSERT_TRUE(failures_.WaitFor(3));
  client.Stop();  // a retry is pending or in flight
  const size_t after_stop = failures_.all().size();
  client.Stop();  // idempotent
  EXPECT_EQ(failures_.all().size(), after_stop);
  for (const ConnectFailures::Failure& f : failures_.all()) {
    EXPECT_TRUE(f.will_retry);
  }
  EXPECT_EQ(tracker_.connects(), 0u);
}

// A listener whose accept queue is full drops new SYNs, so a connect hangs
// until the client's connect_timeout.
TEST_F(ClientTest, ConnectTimeoutReportsDeadlineExceeded) {
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen(/*backlog=*/0).ok());
  absl::StatusOr<InetAddress> address = listener->LocalAddress();
  ASSERT_TRUE(address.ok()) << address.status();
  // Fill the accept queue (never accepted).
  std::vector<testing::TestPeer> fillers;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<testing::TestPeer> filler =
        testing::TestPeer::StartConnect(*address, testing::TestPeer::Options());
    ASSERT_TRUE(filler.ok()) << filler.status();
    fillers.push_back(*std::move(filler));
  }
  (void)fillers[0].FinishConnect(absl::Seconds(5));
  absl::StatusOr<testing::TestPeer> probe =
      testing::TestPeer::Connect(*address, absl::Milliseconds(300));
  if (probe.ok())
    GTEST_SKIP() << "this kernel completed a connect to a full "
                    "accept queue";

  TcpClientOptions options;
  options.connect_timeout = absl::Milliseconds(200);
  TcpClient client(options, testing::Tracked(tracker_, {}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(address->ToString()).ok());
  ASSERT_TRUE(failures_.WaitFor(1));
  client.Stop();
  const std::vector<ConnectFailures::Failure> all = failures_.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].error.code(), absl::StatusCode::kDeadlineExceeded)
      << all[0].error;
  EXPECT_FALSE(all[0].will_retry);
  EXPECT_EQ(tracker_.connects(), 0u);
}

TEST_F(ClientTest, ReconnectsAfterTheServerClosesTheConnection) {
  // The server drops every connection on its first byte; a reconnecting
  // client comes back each time.
  ASSERT_NO_FATAL_FAILURE(StartClosingServer());
  TcpClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(5);
  options.reconnect.max_backoff = absl::Milliseconds(20);
  TcpClient client(options, testing::Tracked(tracker_, {}));
  ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
  for (size_t round = 1; round <= 5; ++round) {
    ASSERT_TRUE(tracker_.WaitForConnects(round)) << "round " << round;
    ConnectionPtr conn = tracker_.WaitForConnection(round - 1);
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->Send("x").ok());
    ASSERT_TRUE(tracker_.WaitForCloses(round)) << "round " << round;
  }
  client.Stop();
  EXPECT_EQ(tracker_.closes(), tracker_.connects());
  ASSERT_TRUE(server_->tracker().WaitForSettled(tracker_.connects()));
}

// A server that accepts and closes at once: each such connection counts as
// a failed attempt (no data, shorter than healthy_after), so the client
// backs off and gives up after max_attempts instead of retrying forever.
TEST_F(ClientTest, ConnectionsThatDieBeforeBeingUsefulCountAsFailures) {
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(
      server_->Start({.on_connect = [](Connection&) { return false; }}).ok());
  TcpClientOptions options = Retrying(absl::Milliseconds(40));
  options.reconnect.max_attempts = 4;
  TcpClient client(options, testing::Tracked(tracker_, {}));
  const std::vector<ConnectFailures::Failure> all =
      FailedAttempts(client, server_->address().ToString(), 4);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].will_retry, i + 1 < all.size()) << "attempt " << i + 1;
  }
  EXPECT_NE(all.back().error.message().find("without data"),
            absl::string_view::npos)
      << all.back().error;
  EXPECT_EQ(client.WaitConnected(kTimeout).code(), all.back().error.code());
}

TEST_F(ClientTest, StopIsBoundedByLingerWhenThePeerNeverCloses) {
  // A listener that never accepts: the kernel completes the handshake, and
  // nobody ever answers our FIN.
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  absl::StatusOr<InetAddress> address = listener->LocalAddress();
  ASSERT_TRUE(address.ok()) << address.status();

  TcpClientOptions options;
  options.connection.linger = absl::Milliseconds(100);
  TcpClient client(options, testing::Tracked(tracker_, {}));
  ASSERT_TRUE(client.Connect(address->ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  const absl::Time start = absl::Now();
  client.Stop();
  EXPECT_LT(absl::Now() - start, kTimeout);
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_EQ(client.connection(), nullptr);
}

TEST_F(ClientTest, ConnectToAMissingUnixSocketFails) {
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(testing::UnixSocketAddress("missing.sock")).ok());
  ASSERT_TRUE(failures_.WaitFor(1));
  client.Stop();
  const std::vector<ConnectFailures::Failure> all = failures_.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].error.ok());
  EXPECT_FALSE(all[0].will_retry);
  EXPECT_EQ(tracker_.connects(), 0u);
}

// ---------------------------------------------------------------------------
// Host names

TEST_F(ClientTest, ConnectsToLocalhostByName) {
  ASSERT_NO_FATAL_FAILURE(EchoesThroughAName("localhost"));
  EXPECT_EQ(tracker_.closes(), 1u);
}

// A name other than "localhost" that /etc/hosts maps to 127.0.0.1 only, when
// the hosts file is consulted first: looking it up sends no packet. Empty
// when this machine has none.
std::string LoopbackNameFromTheHostsFile() {
  std::ifstream nsswitch("/etc/nsswitch.conf");
  bool files_first = false;
  for (std::string line; std::getline(nsswitch, line);) {
    std::vector<std::string> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() >= 2 && words[0] == "hosts:") {
      files_first = words[1] == "files";
    }
  }
  if (!files_first) return "";
  std::ifstream hosts("/etc/hosts");
  absl::flat_hash_map<std::string, std::set<std::string>> addresses;
  std::vector<std::string> names;  // in file order
  for (std::string line; std::getline(hosts, line);) {
    line = line.substr(0, line.find('#'));
    std::vector<std::string> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string name = absl::AsciiStrToLower(words[i]);
      if (addresses[name].empty()) names.push_back(name);
      addresses[name].insert(words[0]);
    }
  }
  for (const std::string& name : names) {
    if (addresses[name] == std::set<std::string>{"127.0.0.1"} &&
        ParseHostName(absl::StrCat(name, ":1")).has_value()) {
      return name;
    }
  }
  return "";
}

// The resolver path end to end: the name is looked up on the resolver's
// helper thread and the answer connects on the client's loop.
TEST_F(ClientTest, ConnectsByAHostNameFromTheHostsFile) {
  const std::string name = LoopbackNameFromTheHostsFile();
  if (name.empty()) {
    GTEST_SKIP() << "no loopback-only name besides localhost in /etc/hosts";
  }
  EchoesThroughAName(name);
}

// A host name no resolver can know, refused before any query is sent: a DNS
// label is at most 63 bytes, so glibc cannot even encode the question (tests
// must not send packets anywhere but loopback).
std::string UnknownHost() { return std::string(70, 'x') + ".invalid"; }

TEST_F(ClientTest, UnknownHostFailsWithNotFoundNamingIt) {
  const std::string host = UnknownHost();
  TcpClient client(TcpClientOptions(), testing::Tracked(tracker_, {}));
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(absl::StrCat(host, ":80")).ok());
  absl::Status connected = client.WaitConnected(kTimeout);
  EXPECT_EQ(connected.code(), absl::StatusCode::kNotFound) << connected;
  EXPECT_TRUE(absl::StrContains(connected.message(), host)) << connected;
  ASSERT_TRUE(failures_.WaitFor(1));
  client.Stop();
  const std::vector<ConnectFailures::Failure> all = failures_.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].error.code(), absl::StatusCode::kNotFound) << all[0].error;
  EXPECT_TRUE(absl::StrContains(all[0].error.message(), host)) << all[0].error;
  EXPECT_FALSE(all[0].will_retry);
  EXPECT_EQ(tracker_.connects(), 0u);
  EXPECT_EQ(client.connection(), nullptr);
}

// ---------------------------------------------------------------------------
// Shared loop pools

// Threads of this process.
size_t ProcessThreads() {
  size_t n = 0;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/self/task", error), end;
       !error && it != end; it.increment(error)) {
    ++n;
  }
  EXPECT_FALSE(error) << error.message();
  return n;
}

TEST_F(ClientTest, AThousandClientsOnTwoLoopsUseTwoThreads) {
  constexpr size_t kClients = 1000;
  // Threads besides the pool's two that may come and go meanwhile.
  constexpr size_t kFewThreads = 2;
  // Both ends of every connection are in this process.
  absl::Status fds = testing::EnsureFdLimit(4096);
  ASSERT_TRUE(fds.ok()) << fds;
  TcpServerOptions server_options;
  server_options.io_threads = 2;
  server_ = std::make_unique<TestServer>(server_options);
  ASSERT_TRUE(server_->Start({.on_data = Echo()}).ok());
  const std::string address = server_->address().ToString();

  const size_t threads_before = ProcessThreads();
  EventLoopThreadPool loops(2);
  loops.Start();
  Swarm swarm;  // after `loops`: the clients go first
  for (size_t i = 0; i < kClients; ++i) {
    ASSERT_TRUE(swarm.Add(&loops).Connect(address).ok()) << "client " << i;
  }
  for (size_t i = 0; i < kClients; ++i) {
    absl::Status connected = swarm.clients[i]->WaitConnected(kTimeout);
    ASSERT_TRUE(connected.ok()) << "client " << i << ": " << connected;
  }
  for (size_t i = 0; i < kClients; ++i) {
    ASSERT_TRUE(swarm.clients[i]->Send(absl::StrCat("client ", i)).ok());
  }
  for (size_t i = 0; i < kClients; ++i) {
    const std::string want = absl::StrCat("client ", i);
    ASSERT_TRUE(swarm.received[i]->WaitForSize(want.size())) << "client " << i;
    EXPECT_EQ(swarm.received[i]->data(), want);
  }
  ASSERT_TRUE(server_->tracker().WaitForConnects(kClients));
  EXPECT_EQ(server_->server().connection_count(), kClients);

  // All of them connected and echoing, on the pool's two threads.
  const size_t threads_during = ProcessThreads();
  RecordProperty("threads_before", static_cast<int>(threads_before));
  RecordProperty("threads_with_clients", static_cast<int>(threads_during));
  EXPECT_LE(threads_during, threads_before + 2 + kFewThreads)
      << threads_before << " threads before the pool, " << threads_during
      << " with " << kClients << " connected clients";
  size_t on_loop[2] = {0, 0};
  for (const std::unique_ptr<TcpClient>& client : swarm.clients) {
    ASSERT_TRUE(client->loop() == loops.loop(0) ||
                client->loop() == loops.loop(1));
    ++on_loop[client->loop() == loops.loop(0) ? 0 : 1];
    ASSERT_NE(client->connection(), nullptr);
    EXPECT_EQ(client->connection()->loop(), client->loop());
  }
  EXPECT_EQ(on_loop[0], kClients / 2);  // handed out round-robin
  EXPECT_EQ(on_loop[1], kClients / 2);

  swarm.clients.clear();  // each ~TcpClient stops; the pool runs on
  for (const std::unique_ptr<ConnectionTracker>& tracker : swarm.trackers) {
    EXPECT_EQ(tracker->closes(), 1u);
    EXPECT_TRUE(tracker->CheckBalanced());
  }
  ASSERT_TRUE(server_->tracker().WaitForSettled(kClients));
  loops.Stop();
}

TEST_F(ClientTest, ClientsSharingAPoolStopIndependently) {
  StartEchoServer();
  EventLoopThreadPool loops(2);
  loops.Start();
  ConnectionTracker trackers[4];
  Received received[4];
  std::unique_ptr<TcpClient> clients[4];
  for (int i = 0; i < 3; ++i) {
    clients[i] = std::make_unique<TcpClient>(
        TcpClientOptions(),
        testing::Tracked(trackers[i], {.on_data = received[i].Sink()}), &loops);
    ASSERT_TRUE(clients[i]->Connect(server_->address().ToString()).ok());
    ASSERT_TRUE(clients[i]->WaitConnected(kTimeout).ok()) << i;
  }
  // Round-robin: neighbours run on different loops.
  EXPECT_NE(clients[0]->loop(), clients[1]->loop());
  EXPECT_EQ(clients[0]->loop(), clients[2]->loop());

  // Stopping one client neither stops its loop nor touches the others.
  EventLoop* const shared = clients[0]->loop();
  clients[0]->Stop();
  EXPECT_EQ(trackers[0].closes(), 1u);
  EXPECT_EQ(clients[0]->connection(), nullptr);
  EXPECT_EQ(clients[0]->loop(), shared);  // the pool's loop stays valid
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(clients[i]->connection()->connected()) << i;
    EXPECT_EQ(trackers[i].closes(), 0u) << i;
  }
  // A new client on the same pool works.
  clients[3] = std::make_unique<TcpClient>(
      TcpClientOptions(),
      testing::Tracked(trackers[3], {.on_data = received[3].Sink()}), &loops);
  ASSERT_TRUE(clients[3]->Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(clients[3]->WaitConnected(kTimeout).ok());
  EXPECT_EQ(clients[3]->loop(), clients[1]->loop());
  size_t echoed = server_received_.data().size();
  for (int i = 1; i < 4; ++i) {
    const std::string message = absl::StrCat("still here ", i);
    ASSERT_TRUE(clients[i]->Send(message).ok()) << i;
    echoed += message.size();
  }
  ASSERT_TRUE(server_received_.WaitForSize(echoed));
  for (auto& client : clients) client.reset();
  for (ConnectionTracker& tracker : trackers) {
    EXPECT_EQ(tracker.closes(), 1u);
    EXPECT_TRUE(tracker.CheckBalanced());
  }
  ASSERT_TRUE(server_->tracker().WaitForSettled(4));
  loops.Stop();
}

// Counts the ticks of a Sched timer.
class Ticks {
 public:
  absl::AnyInvocable<void()> Callback() {
    return [this] {
      absl::MutexLock lock(&mu_);
      ++n_;
    };
  }
  int count() const {
    absl::MutexLock lock(&mu_);
    return n_;
  }
  bool WaitFor(int n) const {
    absl::MutexLock lock(&mu_);
    auto cond = [this, n]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return n_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), kTimeout);
  }

 private:
  mutable absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

// On a shared loop, a client's timers are its own: another client cannot
// cancel them, and Stop cancels them although the loop runs on.
TEST_F(ClientTest, SchedTimersBelongToTheirClientOnASharedLoop) {
  StartEchoServer();
  EventLoopThreadPool loops(1);
  loops.Start();
  Ticks ticks_a, ticks_b;  // outlive the clients
  TcpClient a(TcpClientOptions(), testing::Tracked(tracker_, {}), &loops);
  ConnectionTracker tracker_b;
  TcpClient b(TcpClientOptions(), testing::Tracked(tracker_b, {}), &loops);
  absl::StatusOr<TimerId> early = a.Sched(absl::Milliseconds(1), [] {});
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(a.Connect(server_->address().ToString()).ok());
  ASSERT_TRUE(b.Connect(server_->address().ToString()).ok());
  absl::StatusOr<TimerId> timer_a =
      a.Sched(absl::Milliseconds(1), ticks_a.Callback());
  ASSERT_TRUE(timer_a.ok()) << timer_a.status();
  absl::StatusOr<TimerId> timer_b =
      b.Sched(absl::Milliseconds(1), ticks_b.Callback());
  ASSERT_TRUE(timer_b.ok()) << timer_b.status();
  EXPECT_EQ(a.Sched(absl::ZeroDuration(), [] {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  a.CancelSched(*timer_b);  // not a's: a no-op
  ASSERT_TRUE(ticks_a.WaitFor(3));
  const int b_before = ticks_b.count();
  ASSERT_TRUE(ticks_b.WaitFor(b_before + 3)) << "a cancelled b's timer";

  a.Stop();
  const int a_stopped = ticks_a.count();
  // b's timer (same loop, same interval) ticks on; a's does not.
  const int b_now = ticks_b.count();
  ASSERT_TRUE(ticks_b.WaitFor(b_now + 5));
  EXPECT_EQ(ticks_a.count(), a_stopped) << "a's timer outlived Stop";
  EXPECT_EQ(a.Sched(absl::Milliseconds(1), [] {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  a.CancelSched(*timer_a);  // after Stop: a no-op

  b.CancelSched(*timer_b);
  b.Stop();
  EXPECT_TRUE(tracker_b.CheckBalanced());
  loops.Stop();
}

}  // namespace
}  // namespace tao
