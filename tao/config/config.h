// Loading a server's or a client's configuration from a JSON file: a
// ServerConfig / ClientConfig (config.proto) parsed with protobuf's JSON
// parser, validated, and converted to settings (settings.h) from which the
// endpoint's options are made.
//
//   absl::StatusOr<tao::ServerSettings> settings =
//       tao::LoadServerConfig("examples/chat/server.json");
//   if (!settings.ok()) return settings.status();
//   absl::StatusOr<tao::ServerOptions> options =
//       tao::MakeServerOptions(*settings);  // builds the TlsContext, if any
//   if (!options.ok()) return options.status();
//   tao::Server server(*options, &registry);
//   absl::Status listening = server.Listen(settings->address);
//
// Every error is returned before anything is built, with the field path and
// the value (json.h, validate.h); Load's errors start with the file's path:
//
//   INVALID_ARGUMENT: server.json: server.connection.low_water_mark
//       (2097152) is above high_water_mark (1048576)
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_CONFIG_H_
#define TAO_CONFIG_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/config/settings.h"

namespace tao {

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

}  // namespace tao

#endif  // TAO_CONFIG_CONFIG_H_
