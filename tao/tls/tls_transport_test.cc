// TLS end to end on loopback: the byte layer's TcpServer and TcpClient (or a
// raw peer) with TlsContext, over TLS 1.2 and 1.3, and the message layer's
// Server and Client over it. Every wait has a timeout; nothing sleeps.
#include "tao/tls/tls_transport.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/base/clock.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/net/tcp_client.h"
#include "tao/testing/loopback.h"
#include "tao/tls/test_certs.h"
#include "tao/tls/tls_context.h"
#include "tao/tls/tls_test_util.h"

namespace tao {
namespace {

using ::testing::AllOf;
using testing::BlockingTlsClient;
using testing::BlockingTlsContext;
using testing::ConnectionTracker;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::kTimeout;
using testing::RecordingTlsFactory;
using testing::TestCerts;
using testing::TestPeer;
using testing::TestServer;

// A TcpClient over TLS that records every byte it receives.
class TlsTestClient {
 public:
  explicit TlsTestClient(TcpClientOptions options,
                         ConnectCallback on_connect = nullptr)
      : client_(std::move(options),
                testing::Tracked(tracker_,
                                 {.on_connect = std::move(on_connect),
                                  .on_data = [this](Connection&, Buffer& in) {
                                    absl::MutexLock lock(&mu_);
                                    received_.append(in.Peek(),
                                                     in.readable_bytes());
                                    in.RetrieveAll();
                                  }})) {}
  ~TlsTestClient() { client_.Stop(); }

  absl::Status Connect(const std::string& address) {
    return client_.Connect(address);
  }
  // OnConnect ran: the handshake completed.
  bool WaitConnected() { return tracker_.WaitForConnects(1); }
  absl::Status Send(absl::string_view bytes) { return client_.Send(bytes); }
  bool WaitReceived(size_t n, absl::Duration timeout = kTimeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return received_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  std::string received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  // The first error reported to OnError (waits for it).
  absl::Status WaitError() {
    if (!tracker_.WaitForErrors(1)) {
      return absl::OkStatus();  // "no error" fails the caller's expectation
    }
    for (const ConnectionTracker::Record& r : tracker_.All()) {
      if (!r.errors.empty()) return r.errors.front();
    }
    return absl::OkStatus();
  }
  ConnectionTracker& tracker() { return tracker_; }
  TcpClient& client() { return client_; }

 private:
  ConnectionTracker tracker_;
  absl::Mutex mu_;
  std::string received_ ABSL_GUARDED_BY(mu_);
  TcpClient client_;  // last: stopped first
};

// The first error the server's tracker saw (waits for it).
absl::Status FirstError(ConnectionTracker& tracker) {
  if (!tracker.WaitForErrors(1)) return absl::OkStatus();
  for (const ConnectionTracker::Record& r : tracker.All()) {
    if (!r.errors.empty()) return r.errors.front();
  }
  return absl::OkStatus();
}

// TlsInfo captured in OnConnect.
class InfoBox {
 public:
  void Set(const TlsInfo& info) {
    absl::MutexLock lock(&mu_);
    info_ = info;
    set_ = true;
  }
  TlsInfo Wait() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&set_), kTimeout);
    return info_;
  }

 private:
  absl::Mutex mu_;
  bool set_ ABSL_GUARDED_BY(mu_) = false;
  TlsInfo info_ ABSL_GUARDED_BY(mu_);
};

// An OnConnect that stores the connection's TlsInfo.
ConnectCallback CaptureInfo(std::shared_ptr<RecordingTlsFactory> factory,
                            InfoBox* box) {
  return [factory, box](Connection& c) {
    const TlsTransport* t = factory->Find(c.local_address(), c.peer_address());
    if (t != nullptr) box->Set(t->info());
    return true;
  };
}

std::string TlvFrame(int32_t type, absl::string_view payload) {
  Buffer b;
  b.AppendInt32Le(type);
  b.AppendUint32Le(static_cast<uint32_t>(payload.size()));
  b.Append(payload);
  return std::string(b.view());
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestCerts> certs = testing::MakeTestCerts();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new TestCerts(*std::move(certs));
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static TlsOptions ServerTls() {
    TlsOptions tls;
    tls.cert_chain_pem = certs_->server.cert_pem;
    tls.private_key_pem = certs_->server.key_pem;
    return tls;
  }
  static TlsOptions ClientTls() {
    TlsOptions tls;
    tls.ca_pem = certs_->ca.cert_pem;
    return tls;
  }
  static std::shared_ptr<TlsContext> ServerCtx(TlsOptions tls) {
    absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
        TlsContext::NewServer(std::move(tls));
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? *ctx : nullptr;
  }
  static std::shared_ptr<TlsContext> ClientCtx(TlsOptions tls) {
    absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
        TlsContext::NewClient(std::move(tls));
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? *ctx : nullptr;
  }
  // A context for blocking BoringSSL clients that trust the test CA.
  static std::unique_ptr<BlockingTlsContext> RawCtx(
      BlockingTlsContext::Config config = {}) {
    config.ca_pem = certs_->ca.cert_pem;
    absl::StatusOr<std::unique_ptr<BlockingTlsContext>> ctx =
        BlockingTlsContext::Create(std::move(config));
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? *std::move(ctx) : nullptr;
  }
  static TcpServerOptions ServerOpts(
      std::shared_ptr<const TransportFactory> tls) {
    TcpServerOptions options;
    options.io_threads = 2;
    options.tls = std::move(tls);
    return options;
  }
  static TcpClientOptions ClientOpts(
      std::shared_ptr<const TransportFactory> tls) {
    TcpClientOptions options;
    options.tls = std::move(tls);
    return options;
  }
  // One echo round trip through a new client; returns its received bytes.
  static void ExpectEcho(TlsTestClient& client, absl::string_view message) {
    const size_t before = client.received().size();
    ASSERT_TRUE(client.Send(message).ok());
    ASSERT_TRUE(client.WaitReceived(before + message.size()));
    EXPECT_EQ(client.received().substr(before), message);
  }

  static TestCerts* certs_;
};

TestCerts* TlsTest::certs_ = nullptr;

// ---------------------------------------------------------------------------
// Both protocol versions

class TlsVersionTest : public TlsTest,
                       public ::testing::WithParamInterface<TlsVersion> {
 protected:
  TlsOptions VersionedClientTls() {
    TlsOptions tls = ClientTls();
    tls.max_version = GetParam();
    tls.min_version = GetParam();
    return tls;
  }
  static std::string VersionName() {
    return GetParam() == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2";
  }
};

INSTANTIATE_TEST_SUITE_P(Versions, TlsVersionTest,
                         ::testing::Values(TlsVersion::kTls12,
                                           TlsVersion::kTls13),
                         [](const ::testing::TestParamInfo<TlsVersion>& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13"
                                                                   : "Tls12";
                         });

TEST_P(TlsVersionTest, HandshakeAndEcho) {
  auto server_factory =
      std::make_shared<RecordingTlsFactory>(ServerCtx(ServerTls()));
  InfoBox server_info;
  TestServer server(ServerOpts(server_factory));
  ASSERT_TRUE(
      server
          .Start({.on_connect = CaptureInfo(server_factory, &server_info),
                  .on_data = testing::Echo()})
          .ok());

  auto client_factory =
      std::make_shared<RecordingTlsFactory>(ClientCtx(VersionedClientTls()));
  InfoBox client_info;
  TlsTestClient client(ClientOpts(client_factory),
                       CaptureInfo(client_factory, &client_info));
  // "localhost": SNI and a DNS name check (127.0.0.1 is the IP check).
  ASSERT_TRUE(
      client.Connect(absl::StrCat("localhost:", server.address().port())).ok());
  ASSERT_TRUE(client.WaitConnected());

  const TlsInfo c = client_info.Wait();
  EXPECT_EQ(c.version, VersionName());
  EXPECT_FALSE(c.cipher.empty());
  EXPECT_EQ(c.server_name, "localhost");
  EXPECT_TRUE(c.peer_certificate);
  EXPECT_TRUE(c.peer_verified);
  EXPECT_EQ(c.peer_subject, "CN=tao-test-server,O=tao test");
  EXPECT_THAT(c.peer_issuer, HasSubstr("CN=tao test CA"));
  EXPECT_THAT(c.peer_dns_names, Contains("localhost"));
  EXPECT_THAT(c.peer_ip_addresses, Contains("127.0.0.1"));
  EXPECT_FALSE(c.resumed);

  const TlsInfo s = server_info.Wait();
  EXPECT_EQ(s.version, VersionName());
  EXPECT_EQ(s.server_name, "localhost");
  EXPECT_FALSE(s.peer_certificate);
  EXPECT_FALSE(s.peer_verified);
  EXPECT_TRUE(s.peer_subject.empty());
}

TEST_P(TlsVersionTest, EchoOverIpAddress) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient client(ClientOpts(ClientCtx(VersionedClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected());
  ExpectEcho(client, "hello over tls");
  ExpectEcho(client, "and again");
}

TEST_P(TlsVersionTest, LargeMessage) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient client(ClientOpts(ClientCtx(VersionedClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected());
  const std::string big = testing::RandomBytes(size_t{16} << 20, 42);
  ASSERT_TRUE(client.Send(big).ok());
  ASSERT_TRUE(client.WaitReceived(big.size()));
  EXPECT_TRUE(client.received() == big) << "16 MiB echo differs";
}

TEST_P(TlsVersionTest, ManySmallMessagesThroughTheMessageLayer) {
  // Server: the message layer's raw echo (TLV type 1), inline handlers.
  Registry server_registry;
  ASSERT_TRUE(server_registry
                  .RegisterRaw(1,
                               [](Context& ctx, absl::string_view payload) {
                                 (void)ctx.ReplyRaw(1, payload);
                               })
                  .ok());
  ServerOptions server_options;
  server_options.io_threads = 2;
  server_options.tls = ServerCtx(ServerTls());
  server_options.handler_threads = 0;
  tao::Server server(server_options, &server_registry);
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());

  constexpr int kMessages = 10000;
  absl::Mutex mu;
  std::vector<std::string> heard;
  Registry client_registry;
  ASSERT_TRUE(client_registry
                  .RegisterRaw(1,
                               [&](Context&, absl::string_view payload) {
                                 absl::MutexLock lock(&mu);
                                 heard.emplace_back(payload);
                               })
                  .ok());
  ClientOptions client_options;
  client_options.tls = ClientCtx(VersionedClientTls());
  client_options.handler_threads = 1;
  tao::Client client(client_options, &client_registry);
  absl::Notification connected;
  client.OnConnect([&](Connection&) {
    connected.Notify();
    return true;
  });
  ASSERT_TRUE(client.Connect(server.listen_address().ToString()).ok());
  ASSERT_TRUE(connected.WaitForNotificationWithTimeout(kTimeout));
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(client.SendRaw(1, absl::StrCat("message ", i)).ok());
  }
  {
    absl::MutexLock lock(&mu);
    auto all = [&]() { return heard.size() >= kMessages; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), kTimeout))
        << heard.size() << " of " << kMessages;
    for (int i = 0; i < kMessages; ++i) {
      ASSERT_EQ(heard[i], absl::StrCat("message ", i));
    }
  }
  client.Stop();
  server.Stop(absl::Seconds(5));
  server.Join();
}

TEST_P(TlsVersionTest, MutualTlsAccepted) {
  TlsOptions server_tls = ServerTls();
  server_tls.ca_pem = certs_->ca.cert_pem;
  server_tls.client_auth = ClientAuth::kRequire;
  auto server_factory =
      std::make_shared<RecordingTlsFactory>(ServerCtx(server_tls));
  InfoBox server_info;
  TestServer server(ServerOpts(server_factory));
  ASSERT_TRUE(
      server
          .Start({.on_connect = CaptureInfo(server_factory, &server_info),
                  .on_data = testing::Echo()})
          .ok());

  TlsOptions client_tls = VersionedClientTls();
  client_tls.cert_chain_pem = certs_->client.cert_pem;
  client_tls.private_key_pem = certs_->client.key_pem;
  TlsTestClient client(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected());
  ExpectEcho(client, "mutual");

  // The verified client identity is available to the server.
  const TlsInfo s = server_info.Wait();
  EXPECT_TRUE(s.peer_certificate);
  EXPECT_TRUE(s.peer_verified);
  EXPECT_EQ(s.peer_subject, "CN=tao-test-client,O=tao test");
  EXPECT_THAT(s.peer_dns_names, Contains("client.tao.test"));
  EXPECT_EQ(s.version, VersionName());
}

TEST_P(TlsVersionTest, MutualTlsRefusesClientWithoutCertificate) {
  TlsOptions server_tls = ServerTls();
  server_tls.ca_pem = certs_->ca.cert_pem;
  server_tls.client_auth = ClientAuth::kRequire;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());

  TlsTestClient client(ClientOpts(ClientCtx(VersionedClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status server_error = FirstError(server.tracker());
  EXPECT_TRUE(absl::IsUnauthenticated(server_error)) << server_error;
  EXPECT_THAT(server_error.message(), HasSubstr("no certificate"));
  const absl::Status client_error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(client_error)) << client_error;
  EXPECT_THAT(client_error.message(), HasSubstr("refused with alert"));
  EXPECT_EQ(server.tracker().connects(), 0u);
}

TEST_P(TlsVersionTest, MutualTlsRefusesUntrustedClientCertificate) {
  TlsOptions server_tls = ServerTls();
  server_tls.ca_pem = certs_->ca.cert_pem;
  server_tls.client_auth = ClientAuth::kRequire;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());

  TlsOptions client_tls = VersionedClientTls();
  client_tls.cert_chain_pem = certs_->untrusted_client.cert_pem;
  client_tls.private_key_pem = certs_->untrusted_client.key_pem;
  TlsTestClient client(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status server_error = FirstError(server.tracker());
  EXPECT_TRUE(absl::IsUnauthenticated(server_error)) << server_error;
  EXPECT_THAT(server_error.message(),
              AllOf(HasSubstr("client certificate 'CN=tao-test-client"),
                    HasSubstr("not issued by a trusted CA")));
  const absl::Status client_error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(client_error)) << client_error;
  EXPECT_EQ(server.tracker().connects(), 0u);
}

// ---------------------------------------------------------------------------
// Certificate checks on the client

TEST_F(TlsTest, MutualTlsRefusesExpiredClientCertificate) {
  TlsOptions server_tls = ServerTls();
  server_tls.ca_pem = certs_->ca.cert_pem;
  server_tls.client_auth = ClientAuth::kRequire;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());

  TlsOptions client_tls = ClientTls();
  client_tls.cert_chain_pem = certs_->expired_client.cert_pem;
  client_tls.private_key_pem = certs_->expired_client.key_pem;
  client_tls.check_certificate_expiry = false;
  TlsTestClient client(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status server_error = FirstError(server.tracker());
  EXPECT_TRUE(absl::IsUnauthenticated(server_error)) << server_error;
  EXPECT_THAT(server_error.message(), HasSubstr("expired"));
  EXPECT_FALSE(client.WaitError().ok());
}

TEST_F(TlsTest, HostnameMismatchIsRefused) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsOptions client_tls = ClientTls();
  client_tls.server_name = "wrong.example.com";
  TlsTestClient client(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(error)) << error;
  EXPECT_THAT(error.message(),
              AllOf(HasSubstr("server certificate 'CN=tao-test-server"),
                    HasSubstr("wrong host"), HasSubstr("'wrong.example.com'"),
                    HasSubstr("DNS:localhost")));
  EXPECT_EQ(client.tracker().connects(), 0u);
  EXPECT_FALSE(FirstError(server.tracker()).ok());  // the client's alert
}

TEST_F(TlsTest, IpAddressMismatchIsRefused) {
  // A certificate that names only localhost, dialled by IP address.
  testing::CertSpec spec;
  spec.common_name = "dns-only";
  spec.dns_names = {"localhost"};
  absl::StatusOr<testing::CertAndKey> dns_only =
      testing::MakeCertificate(spec, &certs_->ca);
  ASSERT_TRUE(dns_only.ok());
  TlsOptions server_tls;
  server_tls.cert_chain_pem = dns_only->cert_pem;
  server_tls.private_key_pem = dns_only->key_pem;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient client(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(error)) << error;
  EXPECT_THAT(error.message(),
              AllOf(HasSubstr("wrong host"), HasSubstr("'127.0.0.1'")));
}

TEST_F(TlsTest, ExpiredServerCertificateIsRefused) {
  TlsOptions server_tls;
  server_tls.cert_chain_pem = certs_->expired_server.cert_pem;
  server_tls.private_key_pem = certs_->expired_server.key_pem;
  server_tls.check_certificate_expiry = false;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient client(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(error)) << error;
  EXPECT_THAT(error.message(), AllOf(HasSubstr("certificate has expired"),
                                     HasSubstr("it expired on")));
}

TEST_F(TlsTest, UntrustedServerCertificateIsRefused) {
  TlsOptions server_tls;
  server_tls.cert_chain_pem = certs_->untrusted_server.cert_pem;
  server_tls.private_key_pem = certs_->untrusted_server.key_pem;
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient client(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_TRUE(absl::IsUnauthenticated(error)) << error;
  EXPECT_THAT(error.message(), HasSubstr("not issued by a trusted CA"));
}

// ---------------------------------------------------------------------------
// Wrong protocols, stalls and aborts: the bad connection fails, the others
// carry on.

TEST_F(TlsTest, PlaintextClientOnTlsPortFailsCleanly) {
  auto server_ctx = ServerCtx(ServerTls());
  TcpServerOptions options = ServerOpts(server_ctx);
  TestServer server(options);
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient good(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(good.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(good.WaitConnected());
  ExpectEcho(good, "before");

  absl::StatusOr<TestPeer> plain = TestPeer::Connect(server.address());
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(plain->WriteAll(TlvFrame(1, "hello")).ok());
  EXPECT_TRUE(plain->WaitClosed().ok());
  const absl::Status error = FirstError(server.tracker());
  EXPECT_TRUE(absl::IsUnavailable(error)) << error;
  EXPECT_THAT(error.message(), HasSubstr("TLS handshake with"));

  ExpectEcho(good, "after");
  TlsTestClient another(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(another.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(another.WaitConnected());
  ExpectEcho(another, "still serving");
  EXPECT_EQ(server_ctx->stats().handshakes_failed, 1u);
}

TEST_F(TlsTest, HandshakeAfterAProxyHeader) {
  // A load balancer's PROXY header in the clear, then TLS; the header is
  // read before the TLS transport exists and the ClientHello after it
  // reaches the handshake intact.
  TcpServerOptions options = ServerOpts(ServerCtx(ServerTls()));
  options.proxy_protocol.trusted_sources = {"127.0.0.1"};
  TestServer server(options);
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  BlockingTlsContext::Config config;
  config.preamble = "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n";
  std::unique_ptr<BlockingTlsContext> ctx = RawCtx(config);
  ASSERT_NE(ctx, nullptr);
  absl::StatusOr<BlockingTlsClient> client =
      BlockingTlsClient::Connect(*ctx, server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->WriteAll("secret").ok());
  absl::StatusOr<std::string> echoed = client->ReadExactly(6);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "secret");
  ConnectionPtr connection = server.tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->peer_address().ToString(), "192.0.2.1:56324");
  EXPECT_EQ(server.server().stats().proxy_headers, 1u);
}

TEST_F(TlsTest, HttpClientOnTlsPortGetsAHint) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  absl::StatusOr<TestPeer> plain = TestPeer::Connect(server.address());
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(plain->WriteAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  EXPECT_TRUE(plain->WaitClosed().ok());
  EXPECT_THAT(FirstError(server.tracker()).message(),
              HasSubstr("is the peer speaking TLS?"));
}

TEST_F(TlsTest, TlsClientOnPlainPortFailsCleanly) {
  TestServer server;  // plain TCP echo
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  absl::StatusOr<TestPeer> plain = TestPeer::Connect(server.address());
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(plain->WriteAll("ping").ok());
  EXPECT_EQ(*plain->ReadExactly(4), "ping");

  TlsTestClient client(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_FALSE(error.ok());
  EXPECT_THAT(error.message(), HasSubstr("TLS handshake with"));
  EXPECT_EQ(client.tracker().connects(), 0u);

  ASSERT_TRUE(plain->WriteAll("pong").ok());
  EXPECT_EQ(*plain->ReadExactly(4), "pong");
}

TEST_F(TlsTest, StalledPeerIsClosedByTheHandshakeTimeout) {
  auto server_ctx = ServerCtx(ServerTls());
  TcpServerOptions options = ServerOpts(server_ctx);
  options.connection.handshake_timeout = absl::Milliseconds(200);
  TestServer server(options);
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient good(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(good.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(good.WaitConnected());

  // One peer says nothing; one stops in the middle of a ClientHello record.
  absl::StatusOr<TestPeer> silent = TestPeer::Connect(server.address());
  ASSERT_TRUE(silent.ok());
  absl::StatusOr<TestPeer> halfway = TestPeer::Connect(server.address());
  ASSERT_TRUE(halfway.ok());
  ASSERT_TRUE(halfway
                  ->WriteAll(std::string(
                      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11))
                  .ok());
  EXPECT_TRUE(silent->WaitClosed().ok());
  EXPECT_TRUE(halfway->WaitClosed().ok());
  ASSERT_TRUE(server.tracker().WaitForErrors(2));
  for (const ConnectionTracker::Record& r : server.tracker().All()) {
    for (const absl::Status& e : r.errors) {
      EXPECT_TRUE(absl::IsDeadlineExceeded(e)) << e;
    }
  }
  ExpectEcho(good, "unaffected");
  EXPECT_EQ(server_ctx->stats().handshakes_in_flight, 0u);
}

TEST_F(TlsTest, SilentServerIsClosedByTheClientHandshakeTimeout) {
  // A listener that never answers (the kernel completes the TCP handshake).
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  absl::StatusOr<InetAddress> address = listener->LocalAddress();
  ASSERT_TRUE(address.ok());

  TcpClientOptions options = ClientOpts(ClientCtx(ClientTls()));
  options.connection.handshake_timeout = absl::Milliseconds(200);
  TlsTestClient client(options);
  ASSERT_TRUE(client.Connect(address->ToString()).ok());
  const absl::Status error = client.WaitError();
  EXPECT_TRUE(absl::IsDeadlineExceeded(error)) << error;
}

TEST_F(TlsTest, AbruptCloseDuringTheHandshake) {
  auto server_ctx = ServerCtx(ServerTls());
  auto factory = std::make_shared<RecordingTlsFactory>(server_ctx);
  TestServer server(ServerOpts(factory));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient good(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(good.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(good.WaitConnected());

  // Half a ClientHello, then a reset.
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server.address());
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(
      peer->WriteAll(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9))
          .ok());
  ASSERT_TRUE(factory->WaitForWraps(2, kTimeout));
  ASSERT_TRUE(peer->SetLingerZero().ok());
  peer->Close();
  ASSERT_TRUE(factory->WaitForCloses(1, kTimeout));
  EXPECT_EQ(server_ctx->stats().handshakes_failed, 1u);
  ExpectEcho(good, "unaffected");

  // The client side: a server that accepts and resets at once.
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  auto client_factory =
      std::make_shared<RecordingTlsFactory>(ClientCtx(ClientTls()));
  TlsTestClient client(ClientOpts(client_factory));
  ASSERT_TRUE(client.Connect(listener->LocalAddress()->ToString()).ok());
  // Reset only once the client is in its handshake (earlier, the reset
  // would be a failed connect instead).
  ASSERT_TRUE(client_factory->WaitForWraps(1, kTimeout));
  absl::StatusOr<Socket> accepted = absl::UnavailableError("not yet");
  const absl::Time deadline = absl::Now() + kTimeout;
  while (absl::IsUnavailable(accepted.status()) && absl::Now() < deadline) {
    struct pollfd pfd = {listener->fd(), POLLIN, 0};
    ::poll(&pfd, 1, 100);
    accepted = listener->Accept(nullptr);
  }
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ASSERT_TRUE(accepted->SetLingerZero().ok());
  accepted->Close();
  ASSERT_TRUE(client_factory->WaitForCloses(1, kTimeout));
  EXPECT_EQ(client.tracker().connects(), 0u);
}

TEST_F(TlsTest, AbruptCloseDuringData) {
  auto server_ctx = ServerCtx(ServerTls());
  auto factory = std::make_shared<RecordingTlsFactory>(server_ctx);
  TestServer server(ServerOpts(factory));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsTestClient good(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(good.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(good.WaitConnected());

  // A raw TLS client writes a burst, reads the start of the echo (so data
  // flows both ways) and resets without reading the rest.
  std::unique_ptr<BlockingTlsContext> raw_ctx = RawCtx();
  ASSERT_NE(raw_ctx, nullptr);
  absl::StatusOr<BlockingTlsClient> raw =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(raw.ok()) << raw.status();
  const std::string burst = testing::RandomBytes(256 << 10, 1);
  ASSERT_TRUE(raw->WriteAll(burst).ok());
  EXPECT_EQ(*raw->ReadExactly(1024), burst.substr(0, 1024));
  ASSERT_TRUE(server.tracker().WaitForConnects(2));
  raw->Reset();
  ASSERT_TRUE(server.tracker().WaitForCloses(1));
  ASSERT_TRUE(factory->WaitForCloses(1, kTimeout));
  ExpectEcho(good, "unaffected");

  // The other direction: the server drops a client in the middle of a
  // large upload.
  TestServer dropper(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(dropper
                  .Start({.on_data =
                              [](Connection& c, Buffer& in) {
                                if (c.bytes_read() > (1 << 20)) c.Close();
                                in.RetrieveAll();
                              }})
                  .ok());
  TlsTestClient victim(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(victim.Connect(dropper.address().ToString()).ok());
  ASSERT_TRUE(victim.WaitConnected());
  ASSERT_TRUE(victim.Send(testing::RandomBytes(8 << 20, 2)).ok());
  EXPECT_TRUE(victim.tracker().WaitForCloses(1));
  EXPECT_TRUE(dropper.tracker().WaitForCloses(1));
}

// ---------------------------------------------------------------------------
// TLS 1.2 cipher suites: forward-secret AEAD only, on both sides.

// A BoringSSL server for one connection on its own thread that accepts
// only the TLS 1.2 suites `cipher_list`; Result() is its handshake's
// outcome.
class RawTls12Server {
 public:
  RawTls12Server(const testing::CertAndKey& identity,
                 const std::string& cipher_list) {
    absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
    EXPECT_TRUE(listener.ok());
    EXPECT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
    EXPECT_TRUE(listener->Listen().ok());
    address_ = *listener->LocalAddress();
    thread_ = std::thread([this, listener = *std::move(listener), &identity,
                           cipher_list]() mutable {
      result_.set_value(Serve(listener, identity, cipher_list));
    });
  }
  ~RawTls12Server() { thread_.join(); }
  const InetAddress& address() const { return address_; }
  absl::Status Result() { return result_.get_future().get(); }

 private:
  static absl::Status Serve(Socket& listener,
                            const testing::CertAndKey& identity,
                            const std::string& cipher_list) {
    struct pollfd pfd = {listener.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, absl::ToInt64Milliseconds(kTimeout)) != 1) {
      return absl::DeadlineExceededError("no connection");
    }
    absl::StatusOr<Socket> accepted = listener.Accept(nullptr);
    if (!accepted.ok()) return accepted.status();
    const int fd = accepted->fd();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = absl::ToTimeval(kTimeout);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
    bssl::UniquePtr<BIO> cert_bio(
        BIO_new_mem_buf(identity.cert_pem.data(), identity.cert_pem.size()));
    bssl::UniquePtr<X509> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    bssl::UniquePtr<BIO> key_bio(
        BIO_new_mem_buf(identity.key_pem.data(), identity.key_pem.size()));
    bssl::UniquePtr<EVP_PKEY> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!SSL_CTX_use_certificate(ctx.get(), cert.get()) ||
        !SSL_CTX_use_PrivateKey(ctx.get(), key.get()) ||
        !SSL_CTX_set_strict_cipher_list(ctx.get(), cipher_list.c_str())) {
      return absl::InternalError("raw server setup");
    }
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    const int rc = SSL_accept(ssl.get());
    ERR_clear_error();
    if (rc != 1) return absl::UnavailableError("raw server handshake failed");
    // Wait for the client to finish (close_notify or EOF) before closing.
    char byte;
    (void)SSL_read(ssl.get(), &byte, 1);
    ERR_clear_error();
    return absl::OkStatus();
  }

  InetAddress address_;
  std::promise<absl::Status> result_;
  std::thread thread_;
};

// A server certificate with an RSA key (the usual ones are EC), so that
// RSA key exchange is possible at all.
testing::CertAndKey RsaServerCert(const TestCerts& certs) {
  testing::CertSpec spec;
  spec.common_name = "tao-test-rsa-server";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  spec.rsa_key = true;
  absl::StatusOr<testing::CertAndKey> cert =
      testing::MakeCertificate(spec, &certs.ca);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return cert.ok() ? *std::move(cert) : testing::CertAndKey();
}

TEST_F(TlsTest, Tls12ServerRefusesSuitesWithoutForwardSecrecyOrAead) {
  const testing::CertAndKey rsa = RsaServerCert(*certs_);
  TlsOptions rsa_tls;
  rsa_tls.cert_chain_pem = rsa.cert_pem;
  rsa_tls.private_key_pem = rsa.key_pem;
  TestServer rsa_server(ServerOpts(ServerCtx(rsa_tls)));
  ASSERT_TRUE(rsa_server.Start({.on_data = testing::Echo()}).ok());
  TestServer ec_server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(ec_server.Start({.on_data = testing::Echo()}).ok());
  // A TLS 1.2 client offering only `ciphers`; the suite it got, or why not.
  auto negotiate =
      [&](TestServer& server,
          const std::string& ciphers) -> absl::StatusOr<std::string> {
    BlockingTlsContext::Config config;
    config.max_version = TLS1_2_VERSION;
    config.cipher_list = ciphers;
    std::unique_ptr<BlockingTlsContext> ctx = RawCtx(config);
    if (ctx == nullptr) return absl::InternalError("client context");
    absl::StatusOr<BlockingTlsClient> client =
        BlockingTlsClient::Connect(*ctx, server.address());
    if (!client.ok()) return client.status();
    if (absl::Status w = client->WriteAll("x"); !w.ok()) return w;
    if (absl::StatusOr<std::string> r = client->ReadExactly(1); !r.ok()) {
      return r.status();
    }
    std::string suite =
        SSL_CIPHER_get_name(SSL_get_current_cipher(client->ssl()));
    client->Close();
    return suite;
  };
  // Static RSA key exchange, CBC with SHA-1 or SHA-2 MACs, or both.
  for (const char* weak :
       {"AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA"}) {
    absl::StatusOr<std::string> suite = negotiate(rsa_server, weak);
    EXPECT_FALSE(suite.ok()) << weak << " was accepted";
  }
  for (const char* weak :
       {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"}) {
    absl::StatusOr<std::string> suite = negotiate(ec_server, weak);
    EXPECT_FALSE(suite.ok()) << weak << " was accepted";
  }
  for (const char* strong :
       {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305"}) {
    absl::StatusOr<std::string> suite = negotiate(rsa_server, strong);
    ASSERT_TRUE(suite.ok()) << strong << ": " << suite.status();
    EXPECT_EQ(*suite, strong);
  }
  for (const char* strong :
       {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
    absl::StatusOr<std::string> suite = negotiate(ec_server, strong);
    ASSERT_TRUE(suite.ok()) << strong << ": " << suite.status();
    EXPECT_EQ(*suite, strong);
  }
}

TEST_F(TlsTest, Tls12ClientOffersOnlyForwardSecretAeadSuites) {
  const testing::CertAndKey rsa = RsaServerCert(*certs_);
  TlsOptions client_tls = ClientTls();
  client_tls.max_version = TlsVersion::kTls12;
  auto client_ctx = ClientCtx(client_tls);
  for (const char* weak :
       {"AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"}) {
    RawTls12Server raw(rsa, weak);
    TlsTestClient client(ClientOpts(client_ctx));
    ASSERT_TRUE(client.Connect(raw.address().ToString()).ok());
    const absl::Status error = client.WaitError();
    EXPECT_FALSE(error.ok()) << weak << " was offered";
    client.client().Stop();
    EXPECT_FALSE(raw.Result().ok()) << weak;
  }
  RawTls12Server raw(rsa, "ECDHE-RSA-AES128-GCM-SHA256");
  TlsTestClient client(ClientOpts(client_ctx));
  ASSERT_TRUE(client.Connect(raw.address().ToString()).ok());
  EXPECT_TRUE(client.WaitConnected());
  client.client().Stop();
  EXPECT_TRUE(raw.Result().ok());
}

// ---------------------------------------------------------------------------
// Hostile peers (issue 12): a flooding sender, a paused reader, a truncating
// peer.

TEST_F(TlsTest, FloodingClientDoesNotMonopoliseItsLoop) {
  // One loop: the flooder and the control client share it.
  TcpServerOptions options = ServerOpts(ServerCtx(ServerTls()));
  options.io_threads = 1;
  std::atomic<uint64_t> flooder_id{0};
  absl::Mutex mu;
  uint64_t flood_bytes = 0;             // consumed from the flooder
  size_t largest_delivery = 0;          // bytes in one OnData of the flooder
  std::vector<uint64_t> flood_at_ping;  // flood_bytes when a ping was served
  TestServer server(options);
  ASSERT_TRUE(
      server
          .Start({.on_connect =
                      [&](Connection& c) {
                        uint64_t none = 0;
                        flooder_id.compare_exchange_strong(none, c.id());
                        return true;
                      },
                  .on_data =
                      [&](Connection& c, Buffer& in) {
                        absl::MutexLock lock(&mu);
                        if (c.id() == flooder_id.load()) {
                          flood_bytes += in.readable_bytes();
                          largest_delivery =
                              std::max(largest_delivery, in.readable_bytes());
                          in.RetrieveAll();
                          return;
                        }
                        flood_at_ping.push_back(flood_bytes);
                        (void)c.Send(in.view());
                        in.RetrieveAll();
                      }})
          .ok());
  std::unique_ptr<BlockingTlsContext> raw_ctx = RawCtx();
  ASSERT_NE(raw_ctx, nullptr);

  absl::StatusOr<BlockingTlsClient> flooder =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(flooder.ok()) << flooder.status();
  ASSERT_TRUE(server.tracker().WaitForConnects(1));
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    const std::string chunk(256 << 10, 'f');
    while (!stop.load() && flooder->WriteAll(chunk).ok()) {
    }
  });
  absl::Cleanup stop_flood = [&] {
    stop = true;
    flood.join();
  };
  // Let the flood get going: the server has consumed some of it.
  {
    absl::MutexLock lock(&mu);
    auto started = [&] { return flood_bytes >= (size_t{4} << 20); };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&started), kTimeout));
  }

  absl::StatusOr<BlockingTlsClient> control =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(control.ok()) << control.status();
  constexpr int kPings = 20;
  absl::Duration slowest;
  for (int i = 0; i < kPings; ++i) {
    const absl::Time start = absl::Now();
    ASSERT_TRUE(control->WriteAll("p").ok());
    ASSERT_EQ(*control->ReadExactly(1), "p");
    slowest = std::max(slowest, absl::Now() - start);
  }
  std::move(stop_flood).Invoke();

  // Between two pings the loop serves the flooder a bounded number of
  // turns (one read budget each) while the control client turns its echo
  // around; it never drains the flooder first.
  absl::MutexLock lock(&mu);
  ASSERT_EQ(flood_at_ping.size(), size_t{kPings});
  uint64_t most_between_pings = 0;
  for (size_t i = 1; i < flood_at_ping.size(); ++i) {
    most_between_pings =
        std::max(most_between_pings, flood_at_ping[i] - flood_at_ping[i - 1]);
  }
  std::cerr << "flood: " << flood_bytes << " bytes consumed; at most "
            << most_between_pings << " between two pings, " << largest_delivery
            << " in one OnData; slowest ping " << slowest << "\n";
  EXPECT_LE(largest_delivery, size_t{2} << 20);
  EXPECT_LE(most_between_pings, uint64_t{32} << 20);
}

TEST_F(TlsTest, ReadingResumedLaterDeliversDataThatCameWithTheHandshake) {
  // Each client sends its data in the same segment as its last handshake
  // flight, so the server holds it (decrypted or not) when the handshake
  // completes; the server pauses in OnConnected and resumes from another
  // thread once all are connected. Nothing more arrives on the sockets.
  constexpr int kConnections = 10;
  absl::Mutex mu;
  int delivered = 0;  // connections whose whole message arrived
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server
                  .Start({.on_connect =
                              [](Connection& c) {
                                c.PauseReading();
                                return true;
                              },
                          .on_data =
                              [&](Connection& c, Buffer& in) {
                                if (in.readable_bytes() < 8) return;
                                (void)c.Send(in.view());
                                in.RetrieveAll();
                                absl::MutexLock lock(&mu);
                                ++delivered;
                              }})
                  .ok());
  std::unique_ptr<BlockingTlsContext> raw_ctx = RawCtx();
  ASSERT_NE(raw_ctx, nullptr);
  std::vector<BlockingTlsClient> clients;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<BlockingTlsClient> c =
        BlockingTlsClient::ConnectSendingWithHandshake(
            *raw_ctx, server.address(), absl::StrFormat("hello %02d", i));
    ASSERT_TRUE(c.ok()) << c.status();
    clients.push_back(*std::move(c));
  }
  ASSERT_TRUE(server.tracker().WaitForConnects(kConnections));
  for (int i = 0; i < kConnections; ++i) {
    ConnectionPtr c = server.tracker().WaitForConnection(i);
    ASSERT_NE(c, nullptr);
    c->ResumeReading();
  }
  {
    absl::MutexLock lock(&mu);
    auto all = [&] { return delivered == kConnections; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), kTimeout))
        << delivered << " of " << kConnections << " connections got their data";
  }
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(*clients[i].ReadExactly(8), absl::StrFormat("hello %02d", i));
  }
}

TEST_F(TlsTest, FinWithoutCloseNotifyIsATruncation) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  std::unique_ptr<BlockingTlsContext> raw_ctx = RawCtx();
  ASSERT_NE(raw_ctx, nullptr);

  // Data, then at once a FIN without close_notify: the data is delivered,
  // then the connection fails as truncated.
  absl::StatusOr<BlockingTlsClient> truncating =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(truncating.ok()) << truncating.status();
  ASSERT_TRUE(truncating->WriteAll("tail").ok());
  ASSERT_TRUE(truncating->ShutdownWriteWithoutCloseNotify().ok());
  EXPECT_EQ(*truncating->ReadExactly(4), "tail");
  ASSERT_TRUE(server.tracker().WaitForCloses(1));
  const ConnectionTracker::Record truncated = server.tracker().All()[0];
  EXPECT_TRUE(absl::IsDataLoss(truncated.close_reason))
      << truncated.close_reason;
  EXPECT_THAT(truncated.close_reason.message(),
              HasSubstr("without close_notify (truncated)"));
  ASSERT_EQ(truncated.errors.size(), 1u);
  EXPECT_EQ(truncated.errors[0], truncated.close_reason);

  // close_notify, then FIN: an orderly close.
  absl::StatusOr<BlockingTlsClient> orderly =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(orderly.ok()) << orderly.status();
  ASSERT_TRUE(orderly->WriteAll("bye").ok());
  EXPECT_EQ(*orderly->ReadExactly(3), "bye");
  orderly->Close();
  ASSERT_TRUE(server.tracker().WaitForCloses(2));
  for (const ConnectionTracker::Record& r : server.tracker().All()) {
    if (r.id == truncated.id) continue;
    EXPECT_TRUE(r.close_reason.ok()) << r.close_reason;
    EXPECT_TRUE(r.errors.empty());
  }
}

// ---------------------------------------------------------------------------
// Closing

TEST_F(TlsTest, GracefulShutdownSendsCloseNotify) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server
                  .Start({.on_connect =
                              [](Connection& c) {
                                (void)c.Send("bye");
                                c.Shutdown();
                                return true;
                              },
                          .on_data = nullptr})
                  .ok());
  std::unique_ptr<BlockingTlsContext> raw_ctx = RawCtx();
  ASSERT_NE(raw_ctx, nullptr);
  absl::StatusOr<BlockingTlsClient> raw =
      BlockingTlsClient::Connect(*raw_ctx, server.address());
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw->ReadExactly(3), "bye");
  EXPECT_TRUE(raw->ExpectCloseNotify().ok());
  raw->Close();  // our close_notify and FIN end the server's linger
  ASSERT_TRUE(server.tracker().WaitForCloses(1));
  EXPECT_TRUE(server.tracker().All()[0].close_reason.ok())
      << server.tracker().All()[0].close_reason;
  EXPECT_EQ(server.tracker().errors(), 0u);
}

TEST_F(TlsTest, ClientStopClosesBothSidesWithoutErrors) {
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  {
    TlsTestClient client(ClientOpts(ClientCtx(ClientTls())));
    ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
    ASSERT_TRUE(client.WaitConnected());
    ExpectEcho(client, "x");
    client.client().Stop();
    EXPECT_EQ(client.tracker().errors(), 0u);
    EXPECT_TRUE(client.tracker().CheckBalanced());
  }
  ASSERT_TRUE(server.tracker().WaitForCloses(1));
  EXPECT_EQ(server.tracker().errors(), 0u);
  EXPECT_TRUE(server.tracker().All()[0].close_reason.ok());
}

// ---------------------------------------------------------------------------
// Sessions, limits, reload, ALPN, SNI

TEST_P(TlsVersionTest, SessionResumptionAndTicketKeyRotation) {
  const std::string k1 = TlsContext::GenerateTicketKey();
  const std::string k2 = TlsContext::GenerateTicketKey();
  const std::string k3 = TlsContext::GenerateTicketKey();
  TlsOptions server_tls = ServerTls();
  server_tls.ticket_keys = {k1};
  auto server_ctx = ServerCtx(server_tls);
  TestServer server(ServerOpts(server_ctx));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  auto client_ctx = ClientCtx(VersionedClientTls());

  // One connection with an echo (which also delivers TLS 1.3 tickets).
  auto connect_once = [&] {
    TlsTestClient client(ClientOpts(client_ctx));
    ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
    ASSERT_TRUE(client.WaitConnected());
    ExpectEcho(client, "resume?");
  };
  connect_once();
  EXPECT_EQ(server_ctx->stats().resumed, 0u);
  connect_once();
  EXPECT_EQ(server_ctx->stats().resumed, 1u);
  EXPECT_EQ(client_ctx->stats().resumed, 1u);

  // Rotation: a new key encrypts, the old one still decrypts.
  ASSERT_TRUE(server_ctx->SetTicketKeys({k2, k1}).ok());
  connect_once();
  EXPECT_EQ(server_ctx->stats().resumed, 2u);
  // Every key replaced: old tickets no longer resume...
  ASSERT_TRUE(server_ctx->SetTicketKeys({k3}).ok());
  connect_once();
  EXPECT_EQ(server_ctx->stats().resumed, 2u);
  // ...but the full handshake handed out a fresh one.
  connect_once();
  EXPECT_EQ(server_ctx->stats().resumed, 3u);
  EXPECT_EQ(server_ctx->stats().handshakes_completed, 5u);
}

TEST_P(TlsVersionTest, AutomaticTicketKeyRotationRetiresOldKeys) {
  // Every new ticket rotates the key; the previous key still decrypts, so a
  // ticket survives one rotation but not the several other clients cause.
  TlsOptions server_tls = ServerTls();
  server_tls.ticket_key_rotation = absl::Nanoseconds(1);
  auto server_ctx = ServerCtx(server_tls);
  TestServer server(ServerOpts(server_ctx));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  auto connect_once = [&](std::shared_ptr<TlsContext> ctx) {
    TlsTestClient client(ClientOpts(std::move(ctx)));
    ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
    ASSERT_TRUE(client.WaitConnected());
    ExpectEcho(client, "rotate");
  };
  auto alice = ClientCtx(VersionedClientTls());
  TlsOptions others_tls = VersionedClientTls();
  others_tls.session_resumption = false;  // full handshakes, new tickets
  auto others = ClientCtx(others_tls);
  connect_once(alice);
  connect_once(alice);
  EXPECT_EQ(server_ctx->stats().resumed, 1u);
  connect_once(others);
  connect_once(others);
  connect_once(alice);  // her ticket's key is gone
  EXPECT_EQ(server_ctx->stats().resumed, 1u);
  EXPECT_EQ(server_ctx->stats().handshakes_completed, 5u);
}

TEST_F(TlsTest, ConcurrentHandshakeCap) {
  TlsOptions server_tls = ServerTls();
  server_tls.max_concurrent_handshakes = 1;
  auto server_ctx = ServerCtx(server_tls);
  auto factory = std::make_shared<RecordingTlsFactory>(server_ctx);
  TestServer server(ServerOpts(factory));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());

  // A peer that never finishes its handshake holds the only slot.
  absl::StatusOr<TestPeer> staller = TestPeer::Connect(server.address());
  ASSERT_TRUE(staller.ok());
  ASSERT_TRUE(factory->WaitForWraps(1, kTimeout));
  EXPECT_EQ(server_ctx->stats().handshakes_in_flight, 1u);

  // The next connection is refused before any TLS work.
  auto refused_factory =
      std::make_shared<RecordingTlsFactory>(ClientCtx(ClientTls()));
  TlsTestClient refused(ClientOpts(refused_factory));
  ASSERT_TRUE(refused.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(refused_factory->WaitForCloses(1, kTimeout));
  EXPECT_EQ(refused.tracker().connects(), 0u);
  EXPECT_EQ(server_ctx->stats().refused_over_cap, 1u);

  // The slot frees when the staller goes away.
  staller->Close();
  ASSERT_TRUE(factory->WaitForCloses(1, kTimeout));
  TlsTestClient later(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(later.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(later.WaitConnected());
  ExpectEcho(later, "admitted");
  EXPECT_EQ(server_ctx->stats().handshakes_in_flight, 0u);
}

TEST_P(TlsVersionTest, FullHandshakeRateLimit) {
  FakeClock clock;
  TlsOptions server_tls = ServerTls();
  server_tls.max_full_handshakes_per_second = 1;
  server_tls.full_handshake_burst = 2;
  server_tls.clock = &clock;
  auto server_ctx = ServerCtx(server_tls);
  TestServer server(ServerOpts(server_ctx));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  BlockingTlsContext::Config versioned;
  versioned.max_version =
      GetParam() == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  std::unique_ptr<BlockingTlsContext> fresh = RawCtx(versioned);  // full
  ASSERT_NE(fresh, nullptr);
  BlockingTlsContext::Config resume = versioned;
  resume.resume = true;  // offers its last session
  std::unique_ptr<BlockingTlsContext> returning = RawCtx(resume);
  ASSERT_NE(returning, nullptr);
  // A handshake and an echo (which also delivers TLS 1.3 tickets).
  auto connect = [&](BlockingTlsContext& ctx) -> absl::Status {
    absl::StatusOr<BlockingTlsClient> c =
        BlockingTlsClient::Connect(ctx, server.address());
    if (!c.ok()) return c.status();
    if (absl::Status w = c->WriteAll("r"); !w.ok()) return w;
    if (absl::StatusOr<std::string> r = c->ReadExactly(1); !r.ok()) {
      return r.status();
    }
    c->Close();
    return absl::OkStatus();
  };
  auto refusals_seen = [&] {
    size_t n = 0;
    for (const ConnectionTracker::Record& r : server.tracker().All()) {
      for (const absl::Status& e : r.errors) {
        if (absl::IsResourceExhausted(e) &&
            absl::StrContains(e.message(), "max_full_handshakes_per_second")) {
          ++n;
        }
      }
    }
    return n;
  };

  // The burst: two full handshakes; the third is refused.
  EXPECT_TRUE(connect(*returning).ok());
  EXPECT_TRUE(connect(*fresh).ok());
  EXPECT_FALSE(connect(*fresh).ok());
  EXPECT_EQ(server_ctx->stats().refused_over_rate, 1u);
  ASSERT_TRUE(server.tracker().WaitForErrors(1));
  EXPECT_EQ(refusals_seen(), 1u);
  // A resumed handshake costs nothing.
  EXPECT_TRUE(connect(*returning).ok());
  EXPECT_EQ(server_ctx->stats().resumed, 1u);
  // One token a second.
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(connect(*fresh).ok());
  EXPECT_FALSE(connect(*fresh).ok());
  EXPECT_EQ(server_ctx->stats().refused_over_rate, 2u);
  // A ticket that no longer decrypts means a full handshake: charged.
  ASSERT_TRUE(
      server_ctx->SetTicketKeys({TlsContext::GenerateTicketKey()}).ok());
  EXPECT_FALSE(connect(*returning).ok());
  EXPECT_EQ(server_ctx->stats().refused_over_rate, 3u);
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(connect(*returning).ok());
  EXPECT_EQ(server_ctx->stats().resumed, 1u);
  EXPECT_EQ(server_ctx->stats().handshakes_completed, 5u);
  ASSERT_TRUE(server.tracker().WaitForErrors(3));
  EXPECT_EQ(refusals_seen(), 3u);
}

TEST_F(TlsTest, FullHandshakeRateLimitIsOffByDefaultAndValidated) {
  EXPECT_EQ(TlsOptions().max_full_handshakes_per_second, 0);
  TlsOptions negative = ServerTls();
  negative.max_full_handshakes_per_second = -1;
  EXPECT_TRUE(
      absl::IsInvalidArgument(TlsContext::NewServer(negative).status()));
}

TEST_F(TlsTest, CertificateReloadWithoutRestart) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string cert = absl::StrCat(dir, "/reload_server.pem");
  const std::string key = absl::StrCat(dir, "/reload_server.key");
  ASSERT_TRUE(testing::WriteFile(cert, certs_->server.cert_pem).ok());
  ASSERT_TRUE(testing::WriteFile(key, certs_->server.key_pem, true).ok());
  TlsOptions server_tls;
  server_tls.cert_chain_file = cert;
  server_tls.private_key_file = key;
  auto server_ctx = ServerCtx(server_tls);
  TestServer server(ServerOpts(server_ctx));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());

  TlsOptions client_tls = ClientTls();
  client_tls.session_resumption = false;  // see the new certificate
  auto client_factory =
      std::make_shared<RecordingTlsFactory>(ClientCtx(client_tls));
  InfoBox first_info;
  TlsTestClient first(ClientOpts(client_factory),
                      CaptureInfo(client_factory, &first_info));
  ASSERT_TRUE(first.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(first.WaitConnected());
  EXPECT_EQ(first_info.Wait().peer_subject, "CN=tao-test-server,O=tao test");

  // Renewal: new files, Reload(); new connections get the new certificate.
  ASSERT_TRUE(testing::WriteFile(cert, certs_->server2.cert_pem).ok());
  ASSERT_TRUE(testing::WriteFile(key, certs_->server2.key_pem, true).ok());
  ASSERT_TRUE(server_ctx->Reload().ok());
  InfoBox second_info;
  TlsTestClient second(ClientOpts(client_factory),
                       CaptureInfo(client_factory, &second_info));
  ASSERT_TRUE(second.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(second.WaitConnected());
  EXPECT_EQ(second_info.Wait().peer_subject, "CN=tao-test-server-2,O=tao test");
  ExpectEcho(second, "new certificate");
  ExpectEcho(first, "old connection still works");
}

TEST_F(TlsTest, AlpnNegotiation) {
  TlsOptions server_tls = ServerTls();
  server_tls.alpn = {"tao/2", "tao/1"};
  auto server_factory =
      std::make_shared<RecordingTlsFactory>(ServerCtx(server_tls));
  InfoBox server_info;
  TestServer server(ServerOpts(server_factory));
  ASSERT_TRUE(
      server
          .Start({.on_connect = CaptureInfo(server_factory, &server_info),
                  .on_data = testing::Echo()})
          .ok());

  TlsOptions client_tls = ClientTls();
  client_tls.alpn = {"tao/1"};
  TlsTestClient client(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected());
  EXPECT_EQ(server_info.Wait().alpn, "tao/1");

  client_tls.alpn = {"h2"};
  TlsTestClient mismatch(ClientOpts(ClientCtx(client_tls)));
  ASSERT_TRUE(mismatch.Connect(server.address().ToString()).ok());
  const absl::Status error = mismatch.WaitError();
  EXPECT_THAT(error.message(), HasSubstr("no application protocol"));
}

TEST_F(TlsTest, AuthorizeHookDecidesAfterVerification) {
  std::atomic<bool> allow{true};
  InfoBox seen;
  TlsOptions server_tls = ServerTls();
  server_tls.ca_pem = certs_->ca.cert_pem;
  server_tls.client_auth = ClientAuth::kRequire;
  server_tls.authorize = [&](const TlsInfo& info) {
    seen.Set(info);
    if (allow.load()) return absl::OkStatus();
    return absl::PermissionDeniedError("not on the allow-list");
  };
  TestServer server(ServerOpts(ServerCtx(server_tls)));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}).ok());
  TlsOptions client_tls = ClientTls();
  client_tls.cert_chain_pem = certs_->client.cert_pem;
  client_tls.private_key_pem = certs_->client.key_pem;
  auto client_ctx = ClientCtx(client_tls);

  TlsTestClient admitted(ClientOpts(client_ctx));
  ASSERT_TRUE(admitted.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(admitted.WaitConnected());
  ExpectEcho(admitted, "allowed");
  const TlsInfo info = seen.Wait();
  EXPECT_EQ(info.peer_subject, "CN=tao-test-client,O=tao test");
  EXPECT_TRUE(info.peer_verified);
  EXPECT_THAT(info.peer_address, HasSubstr("127.0.0.1:"));

  allow = false;
  TlsTestClient refused(ClientOpts(client_ctx));
  ASSERT_TRUE(refused.Connect(server.address().ToString()).ok());
  const absl::Status server_error = FirstError(server.tracker());
  EXPECT_TRUE(absl::IsPermissionDenied(server_error)) << server_error;
  EXPECT_THAT(server_error.message(),
              AllOf(HasSubstr("CN=tao-test-client"),
                    HasSubstr("not authorized: not on the allow-list")));
  const absl::Status client_error = refused.WaitError();
  EXPECT_THAT(client_error.message(), HasSubstr("refused with alert"));
}

TEST_F(TlsTest, UnixSocketNeedsAServerName) {
  const std::string address = testing::UnixSocketAddress("tls.sock");
  TestServer server(ServerOpts(ServerCtx(ServerTls())));
  ASSERT_TRUE(server.Start({.on_data = testing::Echo()}, address).ok());

  TlsTestClient nameless(ClientOpts(ClientCtx(ClientTls())));
  ASSERT_TRUE(nameless.Connect(address).ok());
  const absl::Status error = nameless.WaitError();
  EXPECT_TRUE(absl::IsFailedPrecondition(error)) << error;
  EXPECT_THAT(error.message(), HasSubstr("TlsOptions::server_name"));

  TlsOptions named_tls = ClientTls();
  named_tls.server_name = "localhost";
  TlsTestClient named(ClientOpts(ClientCtx(named_tls)));
  ASSERT_TRUE(named.Connect(address).ok());
  ASSERT_TRUE(named.WaitConnected());
  ExpectEcho(named, "over a unix socket");
}

}  // namespace
}  // namespace tao
