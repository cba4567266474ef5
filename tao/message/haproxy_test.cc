// Integration test with a real HAProxy (Debian's haproxy, installed by
// ./bazelw) in front of two tao message Servers on loopback: HAProxy sends
// PROXY v2 headers (send-proxy-v2) and health-checks each server's /healthz
// (ListenMetrics). Checks that clients are spread over both servers, that
// each server sees the client's own address (not HAProxy's), and that a
// server that Stop()s drains its connections, is taken out by the health
// check, and that the other server's clients and new clients see no error.
//
// HAProxy runs through tao/testing/haproxy_process.h (ports chosen at run
// time, every wait bounded, killed and reaped also when a check fails).

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/testing/haproxy_process.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kWhoAmI = 1;
constexpr absl::Duration kDeadline = absl::Seconds(30);

// One tao message server whose handler answers kWhoAmI with
// "<index> <peer address it sees>".
struct Backend {
  explicit Backend(int index) {
    EXPECT_TRUE(
        registry
            .RegisterRaw(kWhoAmI,
                         [index](Context& ctx, absl::string_view) {
                           (void)ctx.ReplyRaw(
                               kWhoAmI,
                               absl::StrCat(
                                   index, " ",
                                   ctx.connection().peer_address().ToString()));
                         })
            .ok());
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = 0;
    options.proxy_protocol.trusted_sources = {"127.0.0.1"};
    server = std::make_unique<Server>(options, &registry);
  }
  ~Backend() {
    if (!joined) {
      server->Stop(absl::Seconds(5));
      server->Join();
    }
  }
  Registry registry;  // outlives server
  std::unique_ptr<Server> server;
  bool joined = false;
};

// What a client learnt from one round trip through HAProxy.
struct Answer {
  int server = -1;
  std::string peer;  // the address the server saw
};

absl::StatusOr<Answer> Ask(TestPeer& peer,
                           absl::Duration timeout = absl::Seconds(10)) {
  absl::Status written = peer.WriteAll(TlvFrame(kWhoAmI, "?"), timeout);
  if (!written.ok()) return written;
  absl::StatusOr<std::string> header = peer.ReadExactly(8, timeout);
  if (!header.ok()) return header.status();
  uint32_t length = 0;
  std::memcpy(&length, header->data() + 4, 4);  // little-endian host
  absl::StatusOr<std::string> payload = peer.ReadExactly(length, timeout);
  if (!payload.ok()) return payload.status();
  std::vector<std::string> parts = absl::StrSplit(*payload, ' ');
  Answer answer;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &answer.server)) {
    return absl::InternalError(absl::StrCat("bad answer: ", *payload));
  }
  answer.peer = parts[1];
  return answer;
}

class HaproxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindHaproxy().has_value()) {
      GTEST_SKIP() << "haproxy is not installed (./bazelw installs it)";
    }
    std::vector<testing::HaproxyBackend> backends;
    for (int i = 0; i < 2; ++i) {
      backends_.push_back(std::make_unique<Backend>(i));
      Server& server = *backends_.back()->server;
      ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
      ASSERT_TRUE(server.ListenMetrics("127.0.0.1:0").ok());
      ASSERT_TRUE(server.Start().ok());
      backends.push_back({server.listen_address(), server.metrics_address()});
    }
    absl::Status started = haproxy_.Start(backends, kDeadline);
    ASSERT_TRUE(started.ok()) << started;
  }

  void TearDown() override {
    haproxy_.Kill();  // before the servers: no health checks against them
    backends_.clear();
  }

  // Waits until HAProxy reports server `name` as `status` ("UP", "DOWN").
  ::testing::AssertionResult WaitForStatus(absl::string_view name,
                                           absl::string_view status) {
    absl::Status reached = haproxy_.WaitForStatus(name, status, kDeadline);
    if (reached.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << reached;
  }

  // A client through HAProxy, with its first answer.
  struct Client {
    TestPeer peer;
    Answer answer;
  };
  absl::StatusOr<Client> Connect() {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(haproxy_.address());
    if (!peer.ok()) return peer.status();
    absl::StatusOr<Answer> answer = Ask(*peer);
    if (!answer.ok()) return answer.status();
    return Client{*std::move(peer), *std::move(answer)};
  }

  std::vector<std::unique_ptr<Backend>> backends_;
  testing::HaproxyProcess haproxy_;
};

TEST_F(HaproxyTest, SpreadsClientsKeepsTheirAddressesAndSurvivesAStop) {
  ASSERT_TRUE(WaitForStatus("s1", "UP"));
  ASSERT_TRUE(WaitForStatus("s2", "UP"));

  // Round robin: both servers get clients, and each sees the client's own
  // address and port, not HAProxy's.
  constexpr int kClients = 20;
  std::vector<Client> clients;
  std::array<int, 2> per_server{};
  for (int i = 0; i < kClients; ++i) {
    absl::StatusOr<Client> client = Connect();
    ASSERT_TRUE(client.ok()) << "client " << i << ": " << client.status();
    ASSERT_GE(client->answer.server, 0);
    ASSERT_LE(client->answer.server, 1);
    ++per_server[client->answer.server];
    EXPECT_EQ(client->answer.peer, client->peer.local_address().ToString());
    clients.push_back(*std::move(client));
  }
  EXPECT_GT(per_server[0], 0);
  EXPECT_GT(per_server[1], 0);
  for (int i = 0; i < 2; ++i) {
    const TcpServerStats stats = backends_[i]->server->tcp().stats();
    // At least: HAProxy also forwarded the connection that probed it.
    EXPECT_GE(stats.proxy_headers, static_cast<uint64_t>(per_server[i]));
    EXPECT_EQ(stats.proxy_header_errors, 0u);
    EXPECT_EQ(stats.proxy_untrusted_refused, 0u);
  }

  // Server 0 stops: /healthz turns 503 and its connections drain (each of
  // its clients reads an orderly EOF), while server 1's clients go on.
  Server& stopping = *backends_[0]->server;
  stopping.Stop(absl::Seconds(10));
  for (Client& client : clients) {
    if (client.answer.server != 0) continue;
    EXPECT_TRUE(client.peer.WaitClosed().ok());
    client.peer.Close();
  }
  stopping.Join();
  backends_[0]->joined = true;
  for (Client& client : clients) {
    if (client.answer.server != 1) continue;
    absl::StatusOr<Answer> again = Ask(client.peer);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->server, 1);
    EXPECT_EQ(again->peer, client.peer.local_address().ToString());
  }

  // Once HAProxy has seen it go, every new client lands on server 1.
  ASSERT_TRUE(WaitForStatus("s1", "DOWN"));
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Client> client = Connect();
    ASSERT_TRUE(client.ok()) << "new client " << i << ": " << client.status();
    EXPECT_EQ(client->answer.server, 1);
    EXPECT_EQ(client->answer.peer, client->peer.local_address().ToString());
  }
  EXPECT_EQ(backends_[1]->server->tcp().stats().proxy_header_errors, 0u);
}

}  // namespace
}  // namespace tao
