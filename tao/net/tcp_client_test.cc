// Loopback integration tests for tao::Client: connecting and echoing,
// refused connects, reconnection after a server restart, the give-up
// policy, graceful Stop, and the client side of the connection callbacks.
#include "tao/net/client.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
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
  Client::ConnectFailedCallback Callback() {
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
class ClientTest : public ::testing::Test {
 protected:
  void StartEchoServer(absl::string_view address = "127.0.0.1:0") {
    server_ = std::make_unique<TestServer>();
    absl::Status started =
        server_->Start({.on_data = server_received_.Sink()}, address);
    ASSERT_TRUE(started.ok()) << started;
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

  Client client;
  testing::Install(client, tracker_, {.on_data = received_.Sink()});
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
  Client client;
  absl::Status sent = client.Send("x");
  EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable) << sent;
  EXPECT_EQ(client.connection(), nullptr);
  client.Stop();  // never connected: a no-op
}

TEST_F(ClientTest, ConnectArgumentErrors) {
  StartEchoServer();
  Client client;
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
  Client client;  // reconnect disabled (the default)
  testing::Install(client, tracker_, {});
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(closed.address()).ok());
  ASSERT_TRUE(failures_.WaitFor(1));
  client.Stop();
  const std::vector<ConnectFailures::Failure> all = failures_.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(IsConnectionRefused(all[0].error)) << all[0].error;
  EXPECT_FALSE(all[0].will_retry);
  EXPECT_EQ(tracker_.connects(), 0u);
  EXPECT_EQ(client.connection(), nullptr);
}

TEST_F(ClientTest, GivesUpAfterMaxAttempts) {
  const RefusingPort closed;
  ASSERT_NE(closed.port, 0);
  ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = absl::Milliseconds(100);
  options.reconnect.max_attempts = 3;
  Client client(options);
  testing::Install(client, tracker_, {});
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(closed.address()).ok());
  ASSERT_TRUE(failures_.WaitFor(3));
  client.Stop();
  const std::vector<ConnectFailures::Failure> all = failures_.all();
  ASSERT_EQ(all.size(), 3u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(IsConnectionRefused(all[i].error)) << i << ": " << all[i].error;
    EXPECT_EQ(all[i].will_retry, i + 1 < all.size()) << "attempt " << i + 1;
  }
  EXPECT_EQ(tracker_.connects(), 0u);
}

TEST_F(ClientTest, ReconnectsAfterTheServerRestarts) {
  ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = absl::Milliseconds(100);

  auto a = std::make_unique<TestServer>();
  ASSERT_TRUE(a->Start({.on_data = Echo()}).ok());
  const InetAddress address = a->address();

  Client client(options);
  testing::Install(client, tracker_, {.on_data = received_.Sink()});
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
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(server_
                  ->Start({.on_data =
                               [](Connection& c, Buffer& in) {
                                 in.RetrieveAll();
                                 c.Close();
                               }})
                  .ok());
  Client client;
  testing::Install(client, tracker_, {.on_data = received_.Sink()});
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
  Client client;
  testing::Install(client, tracker_, {});
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
  Client client;
  testing::Install(client, tracker_,
                   {.on_connect = [](Connection&) { return false; }});
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
  Client client;
  testing::Install(client, tracker_, {.on_data = received_.Sink()});
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
    Client client;
    testing::Install(client, tracker_, {});
    ASSERT_TRUE(client.Connect(server_->address().ToString()).ok());
    ASSERT_TRUE(tracker_.WaitForConnects(1));
  }  // ~Client: Stop()
  EXPECT_EQ(tracker_.closes(), 1u);
  ASSERT_TRUE(server_->tracker().WaitForSettled(1));
  EXPECT_EQ(server_->server().connection_count(), 0u);
}

TEST_F(ClientTest, ManyClientsAgainstOneServer) {
  const size_t kClients = kTsan ? 10 : 50;
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(server_->Start({.on_data = Echo()}).ok());
  // Connection ids are per client, so each client has its own tracker.
  std::vector<std::unique_ptr<ConnectionTracker>> trackers;
  std::vector<std::unique_ptr<Received>> received;
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < kClients; ++i) {
    trackers.push_back(std::make_unique<ConnectionTracker>());
    received.push_back(std::make_unique<Received>());
    clients.push_back(std::make_unique<Client>());
    testing::Install(*clients.back(), *trackers.back(),
                     {.on_data = received.back()->Sink()});
    ASSERT_TRUE(clients.back()->Connect(server_->address().ToString()).ok());
  }
  for (auto& tracker : trackers) ASSERT_TRUE(tracker->WaitForConnects(1));
  std::vector<std::string> payloads;
  for (size_t i = 0; i < kClients; ++i) {
    payloads.push_back(RandomBytes(16 << 10, 1000 + i));
    ASSERT_TRUE(clients[i]->Send(payloads[i]).ok());
  }
  for (size_t i = 0; i < kClients; ++i) {
    ASSERT_TRUE(received[i]->WaitForSize(payloads[i].size()));
    EXPECT_TRUE(received[i]->data() == payloads[i]) << "client " << i;
  }
  clients.clear();  // each ~Client stops
  for (auto& tracker : trackers) {
    EXPECT_EQ(tracker->closes(), 1u);
    EXPECT_TRUE(tracker->CheckBalanced());
  }
  ASSERT_TRUE(server_->tracker().WaitForSettled(kClients));
}

TEST_F(ClientTest, StopWhileRetryingEndsQuietly) {
  const RefusingPort closed;
  ASSERT_NE(closed.port, 0);
  ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = absl::Milliseconds(20);
  Client client(options);
  testing::Install(client, tracker_, {});
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

  ClientOptions options;
  options.connect_timeout = absl::Milliseconds(200);
  Client client(options);
  testing::Install(client, tracker_, {});
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
  server_ = std::make_unique<TestServer>();
  ASSERT_TRUE(server_
                  ->Start({.on_data =
                               [](Connection& c, Buffer& in) {
                                 in.RetrieveAll();
                                 c.Close();
                               }})
                  .ok());
  ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(5);
  options.reconnect.max_backoff = absl::Milliseconds(20);
  Client client(options);
  testing::Install(client, tracker_, {});
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

TEST_F(ClientTest, StopIsBoundedByLingerWhenThePeerNeverCloses) {
  // A listener that never accepts: the kernel completes the handshake, and
  // nobody ever answers our FIN.
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  absl::StatusOr<InetAddress> address = listener->LocalAddress();
  ASSERT_TRUE(address.ok()) << address.status();

  ClientOptions options;
  options.connection.linger = absl::Milliseconds(100);
  Client client(options);
  testing::Install(client, tracker_, {});
  ASSERT_TRUE(client.Connect(address->ToString()).ok());
  ASSERT_TRUE(tracker_.WaitForConnects(1));
  const absl::Time start = absl::Now();
  client.Stop();
  EXPECT_LT(absl::Now() - start, kTimeout);
  EXPECT_EQ(tracker_.closes(), 1u);
  EXPECT_EQ(client.connection(), nullptr);
}

TEST_F(ClientTest, ConnectToAMissingUnixSocketFails) {
  Client client;
  testing::Install(client, tracker_, {});
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

}  // namespace
}  // namespace tao
