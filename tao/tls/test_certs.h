// Throw-away X.509 certificates for tests, benchmarks and demos, generated in
// memory with BoringSSL (EC P-256 keys, SHA-256 signatures), so the
// repository never holds a private key.
//
//   absl::StatusOr<tao::testing::TestCerts> certs =
//       tao::testing::MakeTestCerts();
//   tao::TlsOptions server;
//   server.cert_chain_pem = certs->server.cert_pem;
//   server.private_key_pem = certs->server.key_pem;
//
// //tao/tls:make_test_certs writes the same set to a directory (for
// `openssl s_client` or a manual run of the chat example).
//
// Thread safety: every function is thread-safe (no shared state).
#ifndef TAO_TLS_TEST_CERTS_H_
#define TAO_TLS_TEST_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tao {
namespace testing {

// A certificate and its private key, both PEM.
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 "PRIVATE KEY"
};

// What to put in a certificate.
struct CertSpec {
  std::string common_name;
  std::string organization = "tao test";
  // subjectAltName entries.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  // Validity; the defaults are an hour ago to a day from now.
  absl::Time not_before = absl::InfinitePast();   // InfinitePast: now - 1h
  absl::Time not_after = absl::InfiniteFuture();  // InfiniteFuture: now + 1d
  // A CA (basicConstraints CA:TRUE, keyCertSign) rather than a leaf
  // (serverAuth + clientAuth).
  bool is_ca = false;
  // An RSA-2048 key instead of EC P-256 (for tests of RSA cipher suites).
  bool rsa_key = false;
};

// Creates a certificate for `spec` with a fresh key, signed by `issuer` (a
// CA from this file), or self-signed when `issuer` is null.
absl::StatusOr<CertAndKey> MakeCertificate(const CertSpec& spec,
                                           const CertAndKey* issuer);

// The usual cast of a TLS test.
struct TestCerts {
  CertAndKey ca;  // "tao test CA", trusted by the tests
  // CN tao-test-server; SAN DNS:localhost, IP:127.0.0.1, IP:::1.
  CertAndKey server;
  // CN tao-test-server-2; same SANs (for certificate reload tests).
  CertAndKey server2;
  // CN tao-test-client; SAN DNS:client.tao.test.
  CertAndKey client;
  // Like `server` but expired a day ago.
  CertAndKey expired_server;
  // Like `client` but expired a day ago.
  CertAndKey expired_client;
  // A CA nobody trusts, and a server and a client certificate it issued
  // (same names as `server` / `client`).
  CertAndKey untrusted_ca;
  CertAndKey untrusted_server;
  CertAndKey untrusted_client;
};

absl::StatusOr<TestCerts> MakeTestCerts();

// Writes `certs` to `dir` (which must exist) as <name>.pem and <name>.key
// (mode 0600) for name in: ca, server, server2, client, expired_server,
// expired_client, untrusted_ca, untrusted_server, untrusted_client.
absl::Status WriteTestCerts(const TestCerts& certs, absl::string_view dir);

// Writes `contents` to `path` (mode 0600 when `private_file`).
absl::Status WriteFile(absl::string_view path, absl::string_view contents,
                       bool private_file = false);

}  // namespace testing
}  // namespace tao

#endif  // TAO_TLS_TEST_CERTS_H_
