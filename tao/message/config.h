// A message Server's or Client's configuration from JSON: a ServerConfig /
// ClientConfig (tao/config/config.proto) parsed with protobuf's JSON parser
// (tao/config/json.h), validated, and converted to settings from which the
// endpoint's options are made. The byte layer's and TLS's parts are
// converted and checked by tao/config (convert.h, validate.h); this adds
// tao::MessageOptions' fields and puts the whole together.
//
//   absl::StatusOr<tao::ServerSettings> settings =
//       tao::LoadServerConfig("examples/chat/server.json");
//   if (!settings.ok()) return settings.status();
//   settings->options.io_threads = 2;   // e.g. a command-line override
//   absl::StatusOr<tao::ServerOptions> options =
//       tao::MakeServerOptions(*settings);  // builds the TlsContext, if any
//   if (!options.ok()) return options.status();
//   tao::Server server(*options, &registry);
//   absl::Status listening = server.Listen(settings->address);
//
// Every error is returned before anything is built, with the field path and
// the value; Load's errors start with the file's path:
//
//   INVALID_ARGUMENT: server.json: server.connection.low_water_mark
//       (2097152) is above high_water_mark (1048576)
//
// Settings are plain values: not synchronized (like an int, concurrent
// reads are fine, writes need a lock). The functions have no state:
// callable from any thread.
#ifndef TAO_MESSAGE_CONFIG_H_
#define TAO_MESSAGE_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/config/config.pb.h"
#include "tao/message/options.h"
#include "tao/tls/tls_context.h"

namespace tao {

// What a ServerConfig / ClientConfig describes, in C++ types: the
// endpoint's options plus what is not an option of the endpoint: the
// address (Listen's or Connect's argument), the TLS configuration from
// which EndpointOptions::tls is built (MakeServerOptions), and the metrics
// endpoint's address (ListenMetrics' argument).
struct ServerSettings {
  // Where to listen ("0.0.0.0:12345"); empty: not configured.
  std::string address;
  // Where the metrics endpoint listens (Server::ListenMetrics). Empty:
  // none.
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
  // Where the metrics endpoint listens (Client::ListenMetrics). Empty:
  // none.
  std::string metrics_address;
  // options.tls stays null here: it is built from `tls`.
  ClientOptions options;
  // TLS for every connection; nullopt: plain TCP.
  std::optional<TlsOptions> tls;
};

// From JSON text. INVALID_ARGUMENT for text that is not JSON, an unknown
// field, a value of the wrong type or an invalid value.
absl::StatusOr<ServerSettings> ParseServerConfig(absl::string_view json);
absl::StatusOr<ClientSettings> ParseClientConfig(absl::string_view json);

// From the file at `path`: as Parse*, each error prefixed with "PATH: ";
// NOT_FOUND, PERMISSION_DENIED, ... (from errno) when it cannot be read.
absl::StatusOr<ServerSettings> LoadServerConfig(const std::string& path);
absl::StatusOr<ClientSettings> LoadClientConfig(const std::string& path);

// The endpoint's options: settings.options with options.tls made from
// settings.tls (TlsContext::NewServer / NewClient, which reads the files),
// after validating the settings again (they may have been changed since
// they were loaded).
absl::StatusOr<ServerOptions> MakeServerOptions(const ServerSettings& settings);
absl::StatusOr<ClientOptions> MakeClientOptions(const ClientSettings& settings);

// Conversions, field by field. FromConfig copies every field that is set
// and leaves the others at the C++ defaults; it does not validate. ToConfig
// sets every field, so ToConfig(ServerSettings()) is the complete
// configuration of the defaults, and FromConfig(ToConfig(s)) equals s for
// every field config.proto carries (config_drift_test.cc).
ServerSettings FromConfig(const config::ServerConfig& config);
ClientSettings FromConfig(const config::ClientConfig& config);
config::ServerConfig ToConfig(const ServerSettings& settings);
config::ClientConfig ToConfig(const ClientSettings& settings);

// Validation (tao/config/validate.h's checks on every part, plus the
// message layer's): errors name paths from "server." / "client.".
absl::Status ValidateServerConfig(const config::ServerConfig& config);
absl::Status ValidateClientConfig(const config::ClientConfig& config);
// The same checks on settings (e.g. after command-line overrides).
absl::Status ValidateServerSettings(const ServerSettings& settings);
absl::Status ValidateClientSettings(const ClientSettings& settings);

}  // namespace tao

#endif  // TAO_MESSAGE_CONFIG_H_
