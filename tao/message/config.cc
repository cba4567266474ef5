#include "tao/message/config.h"

#include <string>
#include <utility>

#include "tao/base/status_macros.h"
#include "tao/config/convert.h"
#include "tao/config/copy_fields.h"
#include "tao/config/file.h"
#include "tao/config/json.h"
#include "tao/config/validate.h"

namespace tao {
namespace {

// tao/config/convert.h's overloads, beside the ones below.
using ::tao::FromConfig;
using ::tao::ToConfig;

// --- Conversion of the message layer's fields ---

UnknownTypePolicy ToOptions(config::UnknownTypePolicy p) {
  return p == config::CLOSE ? UnknownTypePolicy::kClose
                            : UnknownTypePolicy::kSkip;
}

config::UnknownTypePolicy ToProto(UnknownTypePolicy p) {
  return p == UnknownTypePolicy::kClose ? config::CLOSE : config::SKIP;
}

void FromConfig(const config::HeartbeatConfig& c, HeartbeatOptions& o) {
  TAO_CONFIG_FROM_DURATION(interval);
  TAO_CONFIG_FROM_DURATION(timeout);
  TAO_CONFIG_FROM_DURATION(reader_idle);
  TAO_CONFIG_FROM_DURATION(writer_idle);
}

void ToConfig(const HeartbeatOptions& o, config::HeartbeatConfig& c) {
  TAO_CONFIG_TO_DURATION(interval);
  TAO_CONFIG_TO_DURATION(timeout);
  TAO_CONFIG_TO_DURATION(reader_idle);
  TAO_CONFIG_TO_DURATION(writer_idle);
}

// What ServerConfig and ClientConfig share: the settings-level fields, TLS
// and tao::MessageOptions (the same field names in both); then the byte
// layer's fields (tao/config/convert.h).
template <typename Config, typename Settings>
Settings SettingsFromConfig(const Config& c) {
  Settings settings;
  settings.address = c.address();
  settings.metrics_address = c.metrics_address();
  if (c.has_tls()) settings.tls = FromConfig(c.tls());
  FromConfig(c, settings.options);  // TcpServerOptions / TcpClientOptions
  MessageOptions& o = settings.options;
  FromConfig(c.heartbeat(), o.heartbeat);
  TAO_CONFIG_FROM_SAME(handler_threads);
  TAO_CONFIG_FROM(unknown_type_policy);
  TAO_CONFIG_FROM_DURATION(frame_timeout);
  TAO_CONFIG_FROM_SIZE(max_queued_messages);
  TAO_CONFIG_FROM_SIZE(max_queued_bytes);
  TAO_CONFIG_FROM_SIZE(max_total_queued_bytes);
  return settings;
}

template <typename Config, typename Settings>
Config SettingsToConfig(const Settings& settings) {
  Config c;
  c.set_address(settings.address);
  c.set_metrics_address(settings.metrics_address);
  if (settings.tls.has_value()) *c.mutable_tls() = ToConfig(*settings.tls);
  ToConfig(settings.options, c);  // TcpServerOptions / TcpClientOptions
  const MessageOptions& o = settings.options;
  ToConfig(o.heartbeat, *c.mutable_heartbeat());
  TAO_CONFIG_TO_SAME(handler_threads);
  TAO_CONFIG_TO(unknown_type_policy);
  TAO_CONFIG_TO_DURATION(frame_timeout);
  TAO_CONFIG_TO_SIZE(max_queued_messages);
  TAO_CONFIG_TO_SIZE(max_queued_bytes);
  TAO_CONFIG_TO_SIZE(max_total_queued_bytes);
  return c;
}

// --- Validation of the whole ---

// What servers and clients share; `root` is "server" or "client".
template <typename Settings>
absl::Status CheckShared(const std::string& root, const Settings& s,
                         bool server) {
  TAO_RETURN_IF_ERROR(ValidateAddress(root + ".address", s.address, !server));
  TAO_RETURN_IF_ERROR(
      ValidateAddress(root + ".metrics_address", s.metrics_address, false));
  TAO_RETURN_IF_ERROR(ValidateThreadCount(root + ".handler_threads",
                                          s.options.handler_threads, true));
  TAO_RETURN_IF_ERROR(
      ValidateConnectionOptions(root + ".connection", s.options.connection));
  if (s.tls.has_value()) {
    TAO_RETURN_IF_ERROR(ValidateTlsOptions(root + ".tls", *s.tls, server));
  }
  return absl::OkStatus();
}

absl::Status CheckServer(const ServerSettings& s) {
  TAO_RETURN_IF_ERROR(
      ValidateThreadCount("server.io_threads", s.options.io_threads, false));
  TAO_RETURN_IF_ERROR(ValidateProxyProtocolOptions("server.proxy_protocol",
                                                   s.options.proxy_protocol));
  return CheckShared("server", s, true);
}

absl::Status CheckClient(const ClientSettings& s) {
  TAO_RETURN_IF_ERROR(CheckShared("client", s, false));
  return ValidateReconnectPolicy("client.reconnect", s.options.reconnect);
}

// --- Loading ---

template <typename Config>
absl::StatusOr<Config> Parse(absl::string_view json, absl::string_view root,
                             absl::Status (*validate)(const Config&)) {
  Config config;
  TAO_RETURN_IF_ERROR(ParseConfigJson(json, root, &config));
  TAO_RETURN_IF_ERROR(validate(config));
  return config;
}

// `parsed` with "PATH: " before its message.
template <typename T>
absl::StatusOr<T> InFile(const std::string& path, absl::StatusOr<T> parsed) {
  if (parsed.ok()) return parsed;
  return InConfigFile(path, parsed.status());
}

// settings.options, validated, with options.tls built by `new_tls`.
template <typename Settings>
auto MakeOptions(
    const Settings& settings, absl::Status (*validate)(const Settings&),
    absl::StatusOr<std::shared_ptr<TlsContext>> (*new_tls)(TlsOptions))
    -> absl::StatusOr<decltype(settings.options)> {
  TAO_RETURN_IF_ERROR(validate(settings));
  auto options = settings.options;
  if (settings.tls.has_value()) {
    TAO_ASSIGN_OR_RETURN(options.tls, new_tls(*settings.tls));
  }
  return options;
}

}  // namespace

ServerSettings FromConfig(const config::ServerConfig& config) {
  return SettingsFromConfig<config::ServerConfig, ServerSettings>(config);
}

ClientSettings FromConfig(const config::ClientConfig& config) {
  return SettingsFromConfig<config::ClientConfig, ClientSettings>(config);
}

config::ServerConfig ToConfig(const ServerSettings& settings) {
  return SettingsToConfig<config::ServerConfig>(settings);
}

config::ClientConfig ToConfig(const ClientSettings& settings) {
  return SettingsToConfig<config::ClientConfig>(settings);
}

absl::Status ValidateServerConfig(const config::ServerConfig& config) {
  TAO_RETURN_IF_ERROR(ValidateConfigValues(config, "server"));
  return CheckServer(FromConfig(config));
}

absl::Status ValidateClientConfig(const config::ClientConfig& config) {
  TAO_RETURN_IF_ERROR(ValidateConfigValues(config, "client"));
  return CheckClient(FromConfig(config));
}

absl::Status ValidateServerSettings(const ServerSettings& settings) {
  TAO_RETURN_IF_ERROR(ValidateConfigValues(ToConfig(settings), "server"));
  return CheckServer(settings);
}

absl::Status ValidateClientSettings(const ClientSettings& settings) {
  TAO_RETURN_IF_ERROR(ValidateConfigValues(ToConfig(settings), "client"));
  return CheckClient(settings);
}

absl::StatusOr<ServerSettings> ParseServerConfig(absl::string_view json) {
  TAO_ASSIGN_OR_RETURN(
      config::ServerConfig config,
      Parse<config::ServerConfig>(json, "server", ValidateServerConfig));
  return FromConfig(config);
}

absl::StatusOr<ClientSettings> ParseClientConfig(absl::string_view json) {
  TAO_ASSIGN_OR_RETURN(
      config::ClientConfig config,
      Parse<config::ClientConfig>(json, "client", ValidateClientConfig));
  return FromConfig(config);
}

absl::StatusOr<ServerSettings> LoadServerConfig(const std::string& path) {
  TAO_ASSIGN_OR_RETURN(std::string json, ReadConfigFile(path));
  return InFile(path, ParseServerConfig(json));
}

absl::StatusOr<ClientSettings> LoadClientConfig(const std::string& path) {
  TAO_ASSIGN_OR_RETURN(std::string json, ReadConfigFile(path));
  return InFile(path, ParseClientConfig(json));
}

absl::StatusOr<ServerOptions> MakeServerOptions(
    const ServerSettings& settings) {
  return MakeOptions(settings, ValidateServerSettings, TlsContext::NewServer);
}

absl::StatusOr<ClientOptions> MakeClientOptions(
    const ClientSettings& settings) {
  return MakeOptions(settings, ValidateClientSettings, TlsContext::NewClient);
}

}  // namespace tao
