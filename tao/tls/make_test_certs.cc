// Writes a throw-away CA and the server / client certificates tests and
// demos use (see test_certs.h) into a directory:
//   ./bazelw run //tao/tls:make_test_certs -- /tmp/certs
// then, e.g.:
//   openssl s_client -connect 127.0.0.1:12345 -CAfile /tmp/certs/ca.pem
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "tao/tls/test_certs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  ::mkdir(dir.c_str(), 0700);  // an existing directory is fine
  absl::StatusOr<tao::testing::TestCerts> certs = tao::testing::MakeTestCerts();
  absl::Status written =
      certs.ok() ? tao::testing::WriteTestCerts(*certs, dir) : certs.status();
  if (!written.ok()) {
    std::fprintf(stderr, "make_test_certs: %s\n", written.ToString().c_str());
    return 1;
  }
  std::printf(
      "wrote ca, server, server2, client, expired_server, expired_client, "
      "untrusted_ca, untrusted_server, untrusted_client (.pem, .key) to %s\n",
      dir.c_str());
  return 0;
}
