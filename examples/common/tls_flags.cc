#include "examples/common/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of this side (enables TLS on a server)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle: a server requires client certificates from it; a "
          "client verifies the server against it (enables TLS on a client)");

namespace tao::examples {

void ApplyTlsFlags(TlsRole role, std::optional<TlsOptions>* tls) {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  const std::string ca = absl::GetFlag(FLAGS_tls_ca);
  if (!tls->has_value()) {
    if (cert.empty() && key.empty() && ca.empty()) return;  // plain TCP
    tls->emplace();
  }
  if (!cert.empty()) (*tls)->cert_chain_file = cert;
  if (!key.empty()) (*tls)->private_key_file = key;
  if (!ca.empty()) {
    (*tls)->ca_file = ca;
    if (role == TlsRole::kServer) (*tls)->client_auth = ClientAuth::kRequire;
  }
}

}  // namespace tao::examples
