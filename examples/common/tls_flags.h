// --tls_cert, --tls_key, --tls_ca for the example servers and clients.
//
// Server: --tls_cert and --tls_key turn TLS on; --tls_ca also requires and
// verifies client certificates (mutual TLS).
// Client: --tls_ca turns TLS on (the server is verified against it; dial
// the name in its certificate, e.g. localhost); --tls_cert/--tls_key offer
// a client certificate.
// With --config (config_flags.h) the file's "tls" object is the starting
// point and these flags, when given, override its fields.
#ifndef EXAMPLES_COMMON_TLS_FLAGS_H_
#define EXAMPLES_COMMON_TLS_FLAGS_H_

#include <optional>

#include "tao/tls/tls_context.h"

namespace tao::examples {

enum class TlsRole { kServer, kClient };

// Applies the TLS flags that are set (non-empty) to *tls, turning TLS on
// when they ask for it. The result is validated with the rest of the
// settings (ServerOptionsOrExit, ClientOptionsOrExit).
void ApplyTlsFlags(TlsRole role, std::optional<TlsOptions>* tls);

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_TLS_FLAGS_H_
