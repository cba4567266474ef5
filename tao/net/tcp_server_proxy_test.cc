// Loopback tests of TcpServer behind a load balancer
// (TcpServerOptions::proxy_protocol): test peers on 127.0.0.1 (trusted)
// play the balancer and send v1 and v2 PROXY headers; peers bound to
// 127.0.0.2 are untrusted clients. Every wait has a timeout.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/proxy_protocol.h"
#include "tao/net/tcp_server.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace {

using ::tao::testing::Echo;
using ::tao::testing::TestPeer;

constexpr absl::string_view kV1 =
    "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n";

std::string V1From(absl::string_view ip, int port) {
  return absl::StrCat("PROXY TCP4 ", ip, " 192.0.2.2 ", port, " 443\r\n");
}

// A v2 PROXY header from [2001:db8::1]:56324 to [2001:db8::2]:443 with one
// TLV, or a LOCAL one.
std::string V2Inet6() {
  std::string body;
  for (char last : {'\x01', '\x02'}) {
    body += std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + last;
  }
  body += std::string("\xDC\x04\x01\xBB", 4);
  body += std::string("\x04\x00\x02zz", 5);  // PP2_TYPE_NOOP
  return absl::StrCat(kProxyV2Signature, "\x21\x21", std::string(1, '\0'),
                      std::string(1, static_cast<char>(body.size())), body);
}
std::string V2Local() {
  return absl::StrCat(kProxyV2Signature, std::string("\x20\x00\x00\x00", 4));
}

TcpServerOptions Trusting(absl::Duration header_timeout = absl::Seconds(30)) {
  TcpServerOptions options;
  options.io_threads = 2;
  options.proxy_protocol.trusted_sources = {"127.0.0.1"};
  options.proxy_protocol.header_timeout = header_timeout;
  return options;
}

absl::StatusOr<TestPeer> Untrusted(const InetAddress& server) {
  TestPeer::Options options;
  options.bind = *InetAddress::Parse("127.0.0.2:0");
  return TestPeer::Connect(server, options);
}

using ProxyServerTest = testing::TestServerTest;

TEST_F(ProxyServerTest, V1HeaderAndDataInOneSegment) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(peer->WriteAll(absl::StrCat(kV1, "hello")).ok());
  absl::StatusOr<std::string> echoed = peer->ReadExactly(5);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "hello");
  ConnectionPtr connection = tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->peer_address().ToString(), "192.0.2.1:56324");
  EXPECT_EQ(server().stats().proxy_headers, 1u);
  EXPECT_EQ(server().stats().proxy_headers_pending, 0u);
}

TEST_F(ProxyServerTest, V2HeaderInPiecesThenData) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  const std::string header = V2Inet6();
  // Trickling in within the timeout is fine.
  for (size_t at = 0; at < header.size(); at += 7) {
    ASSERT_TRUE(peer->WriteAll(header.substr(at, 7)).ok());
  }
  const std::string data = testing::RandomBytes(100000, 7);
  absl::StatusOr<std::string> echoed = peer->Exchange(data, data.size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == data);
  ConnectionPtr connection = tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->peer_address().ToString(), "[2001:db8::1]:56324");
}

TEST_F(ProxyServerTest, LocalAndUnknownKeepTheSocketAddress) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  int i = 0;
  for (const std::string& header :
       {V2Local(), std::string("PROXY UNKNOWN\r\n")}) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    ASSERT_TRUE(peer->WriteAll(header + "ab").ok());
    absl::StatusOr<std::string> echoed = peer->ReadExactly(2);
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    ConnectionPtr connection = tracker().WaitForConnection(i++);
    ASSERT_NE(connection, nullptr);
    EXPECT_EQ(connection->peer_address(), peer->local_address());
  }
  EXPECT_EQ(server().stats().proxy_headers, 2u);
}

TEST_F(ProxyServerTest, PerIpLimitCountsTheClaimedAddress) {
  TcpServerOptions options = Trusting();
  options.max_connections_per_ip = 1;
  ASSERT_TRUE(StartServer({.on_data = Echo()}, options).ok());
  // All from 127.0.0.1 (the balancer), as three different clients.
  std::vector<TestPeer> peers;
  for (const char* ip : {"192.0.2.1", "192.0.2.9"}) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    absl::StatusOr<std::string> echoed =
        peer->Exchange(V1From(ip, 1000) + "x", 1);
    ASSERT_TRUE(echoed.ok()) << ip << ": " << echoed.status();
    peers.push_back(*std::move(peer));
  }
  absl::StatusOr<TestPeer> again = TestPeer::Connect(server_->address());
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->WriteAll(V1From("192.0.2.1", 1001) + "x").ok());
  EXPECT_TRUE(again->WaitClosed().ok());
  EXPECT_EQ(server().stats().refused_per_ip, 1u);
  EXPECT_EQ(tracker().connects(), 2u);
}

TEST_F(ProxyServerTest, BadHeadersCloseAndCount) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  const std::vector<std::string> bad = {
      "PROXY TCP4 192.0.2.1 192.0.2.2 99999 443\r\n",       // bad port
      "GET / HTTP/1.1\r\n\r\n",                             // no header
      "PROXY UNKNOWN " + std::string(200, 'x'),             // no CRLF in 107
      absl::StrCat(kProxyV2Signature, "\x21\x11\xff\xff"),  // oversize
      absl::StrCat(kProxyV2Signature, "\x21\x31", std::string(1, '\0'),
                   "\x6c"),  // AF_UNIX
  };
  for (const std::string& bytes : bad) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    ASSERT_TRUE(peer->WriteAll(bytes).ok());
    EXPECT_TRUE(peer->WaitClosed().ok()) << bytes;
  }
  // The peer closing before its header ended.
  absl::StatusOr<TestPeer> quitter = TestPeer::Connect(server_->address());
  ASSERT_TRUE(quitter.ok()) << quitter.status();
  ASSERT_TRUE(quitter->WriteAll("PROXY TCP4 192.0").ok());
  ASSERT_TRUE(quitter->ShutdownWrite().ok());
  EXPECT_TRUE(quitter->WaitClosed().ok());
  EXPECT_EQ(server().stats().proxy_header_errors, bad.size() + 1);
  EXPECT_EQ(server().stats().proxy_header_timeouts, 0u);
  EXPECT_EQ(server().stats().proxy_headers, 0u);
  EXPECT_EQ(tracker().connects(), 0u);
}

TEST_F(ProxyServerTest, MissingOrTricklingHeaderTimesOut) {
  ASSERT_TRUE(
      StartServer({.on_data = Echo()}, Trusting(absl::Milliseconds(200))).ok());
  absl::StatusOr<TestPeer> silent = TestPeer::Connect(server_->address());
  ASSERT_TRUE(silent.ok()) << silent.status();
  absl::StatusOr<TestPeer> slow = TestPeer::Connect(server_->address());
  ASSERT_TRUE(slow.ok()) << slow.status();
  ASSERT_TRUE(slow->WriteAll("PROXY TCP4 192.0.2.1 ").ok());
  EXPECT_TRUE(silent->WaitClosed().ok());
  EXPECT_TRUE(slow->WaitClosed().ok());
  EXPECT_EQ(server().stats().proxy_header_timeouts, 2u);
  EXPECT_EQ(server().stats().proxy_header_errors, 0u);
  EXPECT_EQ(tracker().connects(), 0u);
}

TEST_F(ProxyServerTest, UntrustedSenderOfAHeaderIsRefused) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  for (const std::string& header : {std::string(kV1), V2Inet6()}) {
    absl::StatusOr<TestPeer> peer = Untrusted(server_->address());
    if (!peer.ok()) GTEST_SKIP() << "no 127.0.0.2: " << peer.status();
    // In two pieces: the first a prefix that cannot decide yet.
    ASSERT_TRUE(peer->WriteAll(header.substr(0, 3)).ok());
    ASSERT_TRUE(peer->WriteAll(header.substr(3) + "data").ok());
    EXPECT_TRUE(peer->WaitClosed().ok());
  }
  ASSERT_TRUE(tracker().WaitForSettled(2));
  EXPECT_EQ(server().stats().proxy_untrusted_refused, 2u);
  for (const auto& record : tracker().All()) {
    ASSERT_EQ(record.errors.size(), 1u);
    EXPECT_TRUE(absl::IsPermissionDenied(record.errors[0])) << record.errors[0];
  }
}

TEST_F(ProxyServerTest, UntrustedClientIsServedAtOnce) {
  // The server speaks first: an untrusted client is not kept waiting for a
  // header it will never send.
  ASSERT_TRUE(StartServer({.on_connect =
                               [](Connection& c) {
                                 (void)c.Send(absl::Cord("welcome"));
                                 return true;
                               },
                           .on_data = Echo()},
                          Trusting())
                  .ok());
  absl::StatusOr<TestPeer> peer = Untrusted(server_->address());
  if (!peer.ok()) GTEST_SKIP() << "no 127.0.0.2: " << peer.status();
  absl::StatusOr<std::string> welcome = peer->ReadExactly(7);
  ASSERT_TRUE(welcome.ok()) << welcome.status();
  EXPECT_EQ(*welcome, "welcome");
  // 'P' then a byte no header has.
  absl::StatusOr<std::string> echoed = peer->Exchange("PING", 4);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "PING");
  ConnectionPtr connection = tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->peer_address(), peer->local_address());
  EXPECT_EQ(server().stats().proxy_untrusted_refused, 0u);
}

TEST_F(ProxyServerTest, StopCancelsPendingHeaders) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}, Trusting()).ok());
  std::vector<TestPeer> waiting;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    if (i % 2 == 1) {
      ASSERT_TRUE(peer->WriteAll("PROXY TC").ok());
    }
    waiting.push_back(*std::move(peer));
  }
  // One listener accepts in order: once a later connection's header is
  // through, the five are pending.
  absl::StatusOr<TestPeer> probe = TestPeer::Connect(server_->address());
  ASSERT_TRUE(probe.ok()) << probe.status();
  ASSERT_TRUE(probe->Exchange(absl::StrCat(kV1, "p"), 1).ok());
  EXPECT_EQ(server().stats().proxy_headers_pending, 5u);
  probe->Close();  // not to be waited for by Stop's linger
  const absl::Time start = absl::Now();
  server_->StopAndJoin(absl::Seconds(10));
  for (TestPeer& peer : waiting) EXPECT_TRUE(peer.WaitClosed().ok());
  // Not the 30 s header timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(server().stats().proxy_headers_pending, 0u);
  EXPECT_EQ(server().stats().proxy_header_timeouts, 0u);
  EXPECT_EQ(server().stats().proxy_header_errors, 0u);
}

TEST_F(ProxyServerTest, PendingHeadersAreBounded) {
  TcpServerOptions options = Trusting();
  options.proxy_protocol.max_pending_headers = 2;
  ASSERT_TRUE(StartServer({.on_data = Echo()}, options).ok());
  std::vector<TestPeer> waiting;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    waiting.push_back(*std::move(peer));
  }
  absl::StatusOr<TestPeer> third = TestPeer::Connect(server_->address());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(third->WaitClosed().ok());
  EXPECT_EQ(server().stats().proxy_header_errors, 1u);
  // A slot frees when a pending header completes.
  absl::StatusOr<std::string> echoed =
      waiting[0].Exchange(absl::StrCat(kV1, "z"), 1);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  absl::StatusOr<TestPeer> fourth = TestPeer::Connect(server_->address());
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  echoed = fourth->Exchange(absl::StrCat(kV1, "y"), 1);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(server().stats().proxy_header_errors, 1u);
  EXPECT_EQ(server().stats().proxy_headers, 2u);
}

TEST(ProxyServerOptionsTest, BadTrustedSourceFailsListen) {
  TcpServerOptions options;
  options.proxy_protocol.trusted_sources = {"127.0.0.1", "10.0.0.1/8"};
  TcpServer server(options, [] { return nullptr; });
  absl::Status listening = server.Listen("127.0.0.1:0");
  EXPECT_TRUE(absl::IsInvalidArgument(listening)) << listening;
  EXPECT_EQ(listening.message(),
            "proxy_protocol.trusted_sources[1]: IP range \"10.0.0.1/8\": has "
            "bits set below its prefix length");
}

}  // namespace
}  // namespace tao
