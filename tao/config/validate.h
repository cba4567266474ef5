// Validation of config values before anything is built from them: the
// checks of the config messages' fields by type (ValidateConfigValues), and
// of the byte layer's and TLS's option structs. The first invalid value is
// INVALID_ARGUMENT naming the field path and the value, for example
//
//   server.connection.low_water_mark (2097152) is above high_water_mark
//       (1048576)
//   server.connection.max_output_bytes (-1) is negative
//   server.tls.private_key_file ("server.key") is set without a
//       certificate (cert_chain_file or cert_chain_pem)
//
// tao/message/config.h validates a whole ServerConfig / ClientConfig with
// these. What only loading can tell (a file is missing, a certificate is
// expired) is TlsContext's to report.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_VALIDATE_H_
#define TAO_CONFIG_VALIDATE_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "tao/net/options.h"
#include "tao/tls/tls_context.h"

namespace tao {

// Every field `config` sets, recursively, paths from `path` ("server"):
// numbers and durations not negative (int32 fields named *_threads
// excepted: ValidateThreadCount), doubles finite, enums one of their named
// values other than the zero one.
absl::Status ValidateConfigValues(const google::protobuf::Message& config,
                                  const std::string& path);

// Empty, or an address InetAddress::Parse accepts; with `host_names`, also
// "host.name:port" (resolved when connecting).
absl::Status ValidateAddress(const std::string& path,
                             const std::string& address, bool host_names);

// As tao/base/thread_count.h: N > 0, -1 one per core, and 0 (inline) when
// `zero_allowed`.
absl::Status ValidateThreadCount(const std::string& path, int threads,
                                 bool zero_allowed);

// low_water_mark <= high_water_mark <= max_output_bytes.
absl::Status ValidateConnectionOptions(const std::string& path,
                                       const ConnectionOptions& options);

// multiplier >= 1, jitter <= 1, max_backoff >= initial_backoff.
absl::Status ValidateReconnectPolicy(const std::string& path,
                                     const ReconnectPolicy& options);

// Every trusted source an IP address or CIDR range; a positive
// header_timeout when any is given.
absl::Status ValidateProxyProtocolOptions(const std::string& path,
                                          const ProxyProtocolOptions& options);

// A certificate and its key together (a `server`: both), each a file or
// PEM text, not both; a verifying client a CA; versions in order; ALPN
// names of 1 to 255 bytes; 48-byte ticket keys.
absl::Status ValidateTlsOptions(const std::string& path,
                                const TlsOptions& options, bool server);

}  // namespace tao

#endif  // TAO_CONFIG_VALIDATE_H_
