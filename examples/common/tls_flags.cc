#include "examples/common/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "tao/tls/tls_context.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of this side (enables TLS on a server)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle: a server requires client certificates from it; a "
          "client verifies the server against it (enables TLS on a client)");

namespace tao::examples {

absl::StatusOr<std::shared_ptr<const TransportFactory>> TlsFromFlags(
    TlsRole role) {
  TlsOptions options;
  options.cert_chain_file = absl::GetFlag(FLAGS_tls_cert);
  options.private_key_file = absl::GetFlag(FLAGS_tls_key);
  options.ca_file = absl::GetFlag(FLAGS_tls_ca);
  if (options.cert_chain_file.empty() != options.private_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (role == TlsRole::kServer) {
    if (options.cert_chain_file.empty()) {
      if (!options.ca_file.empty()) {
        return absl::InvalidArgumentError(
            "--tls_ca on a server needs --tls_cert and --tls_key");
      }
      return nullptr;
    }
    if (!options.ca_file.empty()) options.client_auth = ClientAuth::kRequire;
    absl::StatusOr<std::shared_ptr<TlsContext>> context =
        TlsContext::NewServer(std::move(options));
    if (!context.ok()) return context.status();
    return std::shared_ptr<const TransportFactory>(*std::move(context));
  }
  if (options.ca_file.empty()) {
    if (!options.cert_chain_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_cert on a client needs --tls_ca to verify the server");
    }
    return nullptr;
  }
  absl::StatusOr<std::shared_ptr<TlsContext>> context =
      TlsContext::NewClient(std::move(options));
  if (!context.ok()) return context.status();
  return std::shared_ptr<const TransportFactory>(*std::move(context));
}

}  // namespace tao::examples
