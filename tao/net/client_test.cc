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

// A loopback port with nothing listening: bound, read back, closed.
uint16_t ClosedPort() {
  absl::StatusOr<Socket> s = Socket::Create(AF_INET);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return 0;
  EXPECT_TRUE(s->Bind(InetAddress::Loopback(0)).ok());
  absl::StatusOr<InetAddress> bound = s->LocalAddress();
  EXPECT_TRUE(bound.ok()) << bound.status();
  return bound.ok() ? bound->port() : 0;
}  // closed here

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
  const uint16_t port = ClosedPort();
  ASSERT_NE(port, 0);
  Client client;  // reconnect disabled (the default)
  testing::Install(client, tracker_, {});
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(InetAddress::Loopback(port).ToString()).ok());
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
  const uint16_t port = ClosedPort();
  ASSERT_NE(port, 0);
  ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = absl::Milliseconds(100);
  options.reconnect.max_attempts = 3;
  Client client(options);
  testing::Install(client, tracker_, {});
  client.OnConnectFailed(failures_.Callback());
  ASSERT_TRUE(client.Connect(InetAddress::Loopback(port).ToString()).ok());
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

}  // namespace
}  // namespace tao
