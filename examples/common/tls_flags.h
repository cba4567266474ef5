// --tls_cert, --tls_key, --tls_ca for the example servers and clients.
//
// Server: --tls_cert and --tls_key turn TLS on; --tls_ca also requires and
// verifies client certificates (mutual TLS).
// Client: --tls_ca turns TLS on (the server is verified against it; dial
// the name in its certificate, e.g. localhost); --tls_cert/--tls_key offer
// a client certificate.
#ifndef EXAMPLES_COMMON_TLS_FLAGS_H_
#define EXAMPLES_COMMON_TLS_FLAGS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "tao/net/transport.h"

namespace tao::examples {

enum class TlsRole { kServer, kClient };

// The TLS context the flags ask for, or nullptr when they ask for none.
absl::StatusOr<std::shared_ptr<const TransportFactory>> TlsFromFlags(
    TlsRole role);

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_TLS_FLAGS_H_
