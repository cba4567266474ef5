// ServerSettings and ClientSettings: what a ServerConfig / ClientConfig
// (config.proto) describes, in C++ types. The endpoint's options plus what
// is not an option of the endpoint: the address (Listen's or Connect's
// argument), the TLS configuration from which EndpointOptions::tls is built
// (MakeServerOptions, config.h), and the metrics endpoint's address.
//
//   absl::StatusOr<tao::ServerSettings> settings =
//       tao::LoadServerConfig("server.json");
//   if (!settings.ok()) return settings.status();
//   settings->options.io_threads = 2;   // e.g. a command-line override
//   absl::StatusOr<tao::ServerOptions> options =
//       tao::MakeServerOptions(*settings);
//
// Plain values: not synchronized (like an int, concurrent reads are fine,
// writes need a lock).
#ifndef TAO_CONFIG_SETTINGS_H_
#define TAO_CONFIG_SETTINGS_H_

#include <optional>
#include <string>

#include "tao/message/options.h"
#include "tao/tls/tls_context.h"

namespace tao {

struct ServerSettings {
  // Where to listen ("0.0.0.0:12345"); empty: not configured.
  std::string address;
  // Reserved for the metrics endpoint: where it will listen. Validated as
  // an address; nothing in tao listens on it yet. Empty: none.
  std::string metrics_address;
  // options.tls stays null here: it is built from `tls`.
  ServerOptions options;
  // TLS for every connection; nullopt: plain TCP.
  std::optional<TlsOptions> tls;
};

struct ClientSettings {
  // The server to connect to ("127.0.0.1:12345", "host.name:12345");
  // empty: not configured.
  std::string address;
  // Reserved for the metrics endpoint, as in ServerSettings.
  std::string metrics_address;
  // options.tls stays null here: it is built from `tls`.
  ClientOptions options;
  // TLS for every connection; nullopt: plain TCP.
  std::optional<TlsOptions> tls;
};

}  // namespace tao

#endif  // TAO_CONFIG_SETTINGS_H_
