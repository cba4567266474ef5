// Proves each dependency works through Bazel: Abseil (built from source, so
// ThreadSanitizer sees absl::Mutex), protobuf with a custom MessageOptions
// extension, BoringSSL (a TLS 1.3 handshake over memory BIOs with a key and
// certificate generated here), and GoogleMock.
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "third_party/toolchain_test.pb.h"

namespace {

class GuardedCounter {
 public:
  void Increment() {
    absl::MutexLock lock(&mu_);
    ++value_;
  }
  int value() const {
    absl::MutexLock lock(&mu_);
    return value_;
  }

 private:
  mutable absl::Mutex mu_;
  int value_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(ToolchainTest, AbslMutexGuardsCounterAcrossThreads) {
  GuardedCounter counter;
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < kIncrements; ++i) counter.Increment();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), kThreads * kIncrements);
}

TEST(ToolchainTest, ProtobufCustomMessageOptionReadsBack) {
  const google::protobuf::Descriptor* descriptor =
      tao::toolchain_test::Tagged::descriptor();
  EXPECT_EQ(
      descriptor->options().GetExtension(tao::toolchain_test::test_message_id),
      42u);
  tao::toolchain_test::Tagged message;
  message.set_text("hello");
  std::string bytes;
  ASSERT_TRUE(message.SerializeToString(&bytes));
  tao::toolchain_test::Tagged parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.text(), "hello");
}

struct SslDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, SslDeleter>;

Owned<EVP_PKEY> GenerateKey() {
  EC_KEY* ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (ec == nullptr || !EC_KEY_generate_key(ec)) return nullptr;
  Owned<EVP_PKEY> key(EVP_PKEY_new());
  EVP_PKEY_assign_EC_KEY(key.get(), ec);
  return key;
}

Owned<X509> SelfSign(EVP_PKEY* key) {
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const uint8_t*>("localhost"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  if (!X509_sign(cert.get(), key, EVP_sha256())) return nullptr;
  return cert;
}

TEST(ToolchainTest, BoringSslTls13HandshakeOverMemoryBios) {
#ifndef OPENSSL_IS_BORINGSSL
  FAIL() << "<openssl/ssl.h> did not resolve to BoringSSL";
#endif
  Owned<EVP_PKEY> key = GenerateKey();
  ASSERT_NE(key, nullptr);
  Owned<X509> cert = SelfSign(key.get());
  ASSERT_NE(cert, nullptr);

  Owned<SSL_CTX> server_ctx(SSL_CTX_new(TLS_method()));
  Owned<SSL_CTX> client_ctx(SSL_CTX_new(TLS_method()));
  ASSERT_TRUE(SSL_CTX_use_certificate(server_ctx.get(), cert.get()));
  ASSERT_TRUE(SSL_CTX_use_PrivateKey(server_ctx.get(), key.get()));
  ASSERT_TRUE(SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_3_VERSION));
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), cert.get());
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);

  Owned<SSL> server(SSL_new(server_ctx.get()));
  Owned<SSL> client(SSL_new(client_ctx.get()));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  ASSERT_TRUE(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0));
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());

  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    if (!client_done) {
      int rc = SSL_do_handshake(client.get());
      if (rc == 1) {
        client_done = true;
      } else {
        ASSERT_EQ(SSL_get_error(client.get(), rc), SSL_ERROR_WANT_READ);
      }
    }
    if (!server_done) {
      int rc = SSL_do_handshake(server.get());
      if (rc == 1) {
        server_done = true;
      } else {
        ASSERT_EQ(SSL_get_error(server.get(), rc), SSL_ERROR_WANT_READ);
      }
    }
  }
  ASSERT_TRUE(client_done && server_done);
  EXPECT_EQ(SSL_version(client.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_get_verify_result(client.get()), X509_V_OK);

  const std::string hello = "hello over tls";
  ASSERT_EQ(SSL_write(client.get(), hello.data(), hello.size()),
            static_cast<int>(hello.size()));
  char received[64] = {};
  ASSERT_EQ(SSL_read(server.get(), received, sizeof(received)),
            static_cast<int>(hello.size()));
  EXPECT_EQ(std::string(received, hello.size()), hello);
}

class Greeter {
 public:
  virtual ~Greeter() = default;
  virtual std::string Greet(const std::string& name) = 0;
};

class MockGreeter : public Greeter {
 public:
  MOCK_METHOD(std::string, Greet, (const std::string& name), (override));
};

TEST(ToolchainTest, GmockExpectationIsChecked) {
  MockGreeter greeter;
  EXPECT_CALL(greeter, Greet(testing::StartsWith("ta")))
      .WillOnce(testing::Return("hi tao"));
  EXPECT_EQ(greeter.Greet("tao"), "hi tao");
}

}  // namespace
