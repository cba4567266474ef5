// TlsContext configuration: what loads, and the errors for what does not
// (each names the file and the reason).
#include "tao/tls/tls_context.h"

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/tls/test_certs.h"

namespace tao {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class TlsContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TestCerts> certs = testing::MakeTestCerts();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new testing::TestCerts(*std::move(certs));
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  // A file under the test's temporary directory.
  static std::string TempFile(absl::string_view name,
                              absl::string_view contents) {
    const char* dir = std::getenv("TEST_TMPDIR");
    const std::string path =
        absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
    absl::Status written = testing::WriteFile(path, contents);
    EXPECT_TRUE(written.ok()) << written;
    return path;
  }

  static TlsOptions ServerOptions() {
    TlsOptions options;
    options.cert_chain_pem = certs_->server.cert_pem;
    options.private_key_pem = certs_->server.key_pem;
    return options;
  }

  static testing::TestCerts* certs_;
};

testing::TestCerts* TlsContextTest::certs_ = nullptr;

TEST_F(TlsContextTest, ServerFromMemory) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(ServerOptions());
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ((*ctx)->role(), TlsContext::Role::kServer);
  EXPECT_EQ((*ctx)->stats().handshakes_started, 0u);
}

TEST_F(TlsContextTest, ServerFromFiles) {
  TlsOptions options;
  options.cert_chain_file = TempFile("server.pem", certs_->server.cert_pem);
  options.private_key_file = TempFile("server.key", certs_->server.key_pem);
  options.ca_file = TempFile("ca.pem", certs_->ca.cert_pem);
  options.client_auth = ClientAuth::kRequire;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
}

TEST_F(TlsContextTest, ChainWithIntermediateLoads) {
  TlsOptions options = ServerOptions();
  options.cert_chain_pem =
      absl::StrCat(certs_->server.cert_pem, certs_->ca.cert_pem);
  EXPECT_TRUE(TlsContext::NewServer(options).ok());
}

TEST_F(TlsContextTest, MissingFileNamesTheFile) {
  TlsOptions options = ServerOptions();
  options.cert_chain_pem.clear();
  options.cert_chain_file = "/nonexistent/tao/server.pem";
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_TRUE(absl::IsNotFound(ctx.status())) << ctx.status();
  EXPECT_THAT(ctx.status().message(),
              AllOf(HasSubstr("cert_chain_file '/nonexistent/tao/server.pem'"),
                    HasSubstr("No such file")));
}

TEST_F(TlsContextTest, KeyThatDoesNotMatchTheCertificate) {
  TlsOptions options;
  options.cert_chain_file = TempFile("server.pem", certs_->server.cert_pem);
  options.private_key_file = TempFile("client.key", certs_->client.key_pem);
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ctx.status())) << ctx.status();
  EXPECT_THAT(ctx.status().message(),
              AllOf(HasSubstr("private_key_file '"), HasSubstr("client.key"),
                    HasSubstr("does not match"), HasSubstr("server.pem"),
                    HasSubstr("CN=tao-test-server")));
}

TEST_F(TlsContextTest, ExpiredCertificateIsRefusedAtLoad) {
  TlsOptions options;
  options.cert_chain_file =
      TempFile("expired.pem", certs_->expired_server.cert_pem);
  options.private_key_pem = certs_->expired_server.key_pem;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(ctx.status())) << ctx.status();
  EXPECT_THAT(ctx.status().message(),
              AllOf(HasSubstr("expired.pem"), HasSubstr("expired on")));
  options.check_certificate_expiry = false;  // tests of peers only
  EXPECT_TRUE(TlsContext::NewServer(options).ok());
}

TEST_F(TlsContextTest, GarbageIsNotPem) {
  TlsOptions options = ServerOptions();
  options.cert_chain_pem = "hello, I am not a certificate";
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(),
              HasSubstr("cert_chain_pem: no PEM certificate found"));

  options = ServerOptions();
  options.private_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
  ctx = TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(),
              HasSubstr("private_key_pem: no usable PEM private key"));
}

TEST_F(TlsContextTest, ServerNeedsACertificate) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(TlsOptions());
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(),
              HasSubstr("a server needs a certificate"));

  TlsOptions options = ServerOptions();
  options.private_key_pem.clear();
  ctx = TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(), HasSubstr("no private key"));
}

TEST_F(TlsContextTest, FileAndPemTogetherIsAnError) {
  TlsOptions options = ServerOptions();
  options.cert_chain_file = "/x.pem";
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(),
              HasSubstr("set cert_chain_file or cert_chain_pem, not both"));
}

TEST_F(TlsContextTest, ClientNeedsTrustToVerify) {
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewClient(TlsOptions());
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(),
              HasSubstr("verify_peer needs trusted CAs"));

  TlsOptions insecure;
  insecure.verify_peer = false;
  EXPECT_TRUE(TlsContext::NewClient(insecure).ok());

  TlsOptions client;
  client.ca_pem = certs_->ca.cert_pem;
  client.cert_chain_pem = certs_->client.cert_pem;
  client.private_key_pem = certs_->client.key_pem;
  EXPECT_TRUE(TlsContext::NewClient(client).ok());
}

TEST_F(TlsContextTest, ClientAuthNeedsCas) {
  TlsOptions options = ServerOptions();
  options.client_auth = ClientAuth::kRequire;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(), HasSubstr("client_auth needs the CAs"));
}

TEST_F(TlsContextTest, BadProtocolOptions) {
  TlsOptions options = ServerOptions();
  options.min_version = TlsVersion::kTls13;
  options.max_version = TlsVersion::kTls12;
  EXPECT_FALSE(TlsContext::NewServer(options).ok());

  options = ServerOptions();
  options.alpn = {"tao/1", ""};
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(), HasSubstr("ALPN protocol"));

  options = ServerOptions();
  options.ticket_keys = {"too short"};
  ctx = TlsContext::NewServer(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(), HasSubstr("ticket key 0 has 9 bytes"));
}

TEST_F(TlsContextTest, TicketKeys) {
  TlsOptions options = ServerOptions();
  options.ticket_keys = {TlsContext::GenerateTicketKey()};
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(TlsContext::GenerateTicketKey().size(), 48u);
  EXPECT_NE(TlsContext::GenerateTicketKey(), TlsContext::GenerateTicketKey());
  EXPECT_TRUE((*ctx)
                  ->SetTicketKeys({TlsContext::GenerateTicketKey(),
                                   TlsContext::GenerateTicketKey()})
                  .ok());
  EXPECT_FALSE((*ctx)->SetTicketKeys({}).ok());
  EXPECT_FALSE((*ctx)->SetTicketKeys({"short"}).ok());
}

TEST_F(TlsContextTest, FailedReloadKeepsTheOldConfiguration) {
  const std::string cert = TempFile("reload.pem", certs_->server.cert_pem);
  const std::string key = TempFile("reload.key", certs_->server.key_pem);
  TlsOptions options;
  options.cert_chain_file = cert;
  options.private_key_file = key;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
      TlsContext::NewServer(options);
  ASSERT_TRUE(ctx.ok()) << ctx.status();

  // The files are replaced by a renewed pair: Reload() picks it up.
  TempFile("reload.pem", certs_->server2.cert_pem);
  TempFile("reload.key", certs_->server2.key_pem);
  EXPECT_TRUE((*ctx)->Reload().ok());
  EXPECT_EQ((*ctx)->stats().reloads, 1u);

  // A half-written renewal (new certificate, old key) is refused.
  TempFile("reload.pem", certs_->server.cert_pem);
  TempFile("reload.key", certs_->server2.key_pem);
  absl::Status reloaded = (*ctx)->Reload();
  EXPECT_THAT(reloaded.message(), HasSubstr("does not match"));
  EXPECT_EQ((*ctx)->stats().reloads, 1u);

  TlsOptions missing = options;
  missing.cert_chain_file = "/nonexistent.pem";
  EXPECT_TRUE(absl::IsNotFound((*ctx)->Reload(missing)));
  EXPECT_EQ((*ctx)->options().cert_chain_file, cert);
}

TEST(TestCertsTest, WritesEveryFile) {
  absl::StatusOr<testing::TestCerts> certs = testing::MakeTestCerts();
  ASSERT_TRUE(certs.ok()) << certs.status();
  EXPECT_NE(certs->server.cert_pem, certs->client.cert_pem);
  EXPECT_THAT(certs->server.cert_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(certs->server.key_pem, HasSubstr("BEGIN PRIVATE KEY"));
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  EXPECT_TRUE(testing::WriteTestCerts(*certs, dir).ok());
}

}  // namespace
}  // namespace tao
