// Validation of a ServerConfig / ClientConfig (config.proto) before anything
// is built from it: the first invalid value is INVALID_ARGUMENT naming the
// field path and the value, for example
//
//   server.connection.low_water_mark (2097152) is above high_water_mark
//       (1048576)
//   server.connection.max_output_bytes (-1) is negative
//   server.tls.private_key_file ("server.key") is set without a
//       certificate (cert_chain_file or cert_chain_pem)
//
// Checked: sizes, counts and durations are not negative; enums are one of
// their named values; thread counts follow tao/base/thread_count.h;
// low_water_mark <= high_water_mark <= max_output_bytes; reconnect backoff
// is sane; TLS has a certificate and its key together (a server: both), a
// verifying client a CA, versions in order, ALPN names of 1 to 255 bytes,
// 48-byte ticket keys; address and metrics_address parse (a client's
// address may be a host name). What only loading can tell (a file is
// missing, a certificate is expired) is TlsContext's to report.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_VALIDATE_H_
#define TAO_CONFIG_VALIDATE_H_

#include "absl/status/status.h"
#include "tao/config/config.pb.h"
#include "tao/config/settings.h"

namespace tao {

// Errors name paths from "server." / "client.".
absl::Status ValidateServerConfig(const config::ServerConfig& config);
absl::Status ValidateClientConfig(const config::ClientConfig& config);

// The same checks on settings (e.g. after command-line overrides).
absl::Status ValidateServerSettings(const ServerSettings& settings);
absl::Status ValidateClientSettings(const ClientSettings& settings);

}  // namespace tao

#endif  // TAO_CONFIG_VALIDATE_H_
