#include "tao/config/convert.h"

#include <cstdint>
#include <string>
#include <vector>

#include "tao/config/values.h"

namespace tao {
namespace {

using config_internal::ToAbsl;
using config_internal::ToProto;

OverflowPolicy ToOptions(config::ConnectionConfig::OverflowPolicy p) {
  switch (p) {
    case config::ConnectionConfig::DROP_NEWEST:
      return OverflowPolicy::kDropNewest;
    case config::ConnectionConfig::PAUSE_READING:
      return OverflowPolicy::kPauseReading;
    default:
      return OverflowPolicy::kDisconnect;
  }
}

config::ConnectionConfig::OverflowPolicy ToProto(OverflowPolicy p) {
  switch (p) {
    case OverflowPolicy::kDropNewest:
      return config::ConnectionConfig::DROP_NEWEST;
    case OverflowPolicy::kPauseReading:
      return config::ConnectionConfig::PAUSE_READING;
    case OverflowPolicy::kDisconnect:
      break;
  }
  return config::ConnectionConfig::DISCONNECT;
}

UnknownTypePolicy ToOptions(config::UnknownTypePolicy p) {
  return p == config::CLOSE ? UnknownTypePolicy::kClose
                            : UnknownTypePolicy::kSkip;
}

config::UnknownTypePolicy ToProto(UnknownTypePolicy p) {
  return p == UnknownTypePolicy::kClose ? config::CLOSE : config::SKIP;
}

TlsVersion ToOptions(config::TlsConfig::TlsVersion v) {
  return v == config::TlsConfig::TLS_1_3 ? TlsVersion::kTls13
                                         : TlsVersion::kTls12;
}

config::TlsConfig::TlsVersion ToProto(TlsVersion v) {
  return v == TlsVersion::kTls13 ? config::TlsConfig::TLS_1_3
                                 : config::TlsConfig::TLS_1_2;
}

ClientAuth ToOptions(config::TlsConfig::ClientAuth a) {
  switch (a) {
    case config::TlsConfig::OPTIONAL:
      return ClientAuth::kOptional;
    case config::TlsConfig::REQUIRE:
      return ClientAuth::kRequire;
    default:
      return ClientAuth::kNone;
  }
}

config::TlsConfig::ClientAuth ToProto(ClientAuth a) {
  switch (a) {
    case ClientAuth::kOptional:
      return config::TlsConfig::OPTIONAL;
    case ClientAuth::kRequire:
      return config::TlsConfig::REQUIRE;
    case ClientAuth::kNone:
      break;
  }
  return config::TlsConfig::NONE;
}

// Sizes are int64 in config.proto (so that a negative one is reported by
// name); validation has refused negative ones before FromConfig matters.
size_t ToOptions(int64_t size) { return static_cast<size_t>(size); }
int64_t ToProtoSize(size_t size) { return static_cast<int64_t>(size); }

// Field copies. FROM copies a field the config sets; TO sets it.
#define TAO_FROM(field) \
  if (c.has_##field()) o.field = ToOptions(c.field())
#define TAO_FROM_SAME(field) \
  if (c.has_##field()) o.field = c.field()
#define TAO_FROM_DURATION(field) \
  if (c.has_##field()) o.field = ToAbsl(c.field())
#define TAO_TO(field) c.set_##field(ToProto(o.field))
#define TAO_TO_SAME(field) c.set_##field(o.field)
#define TAO_TO_SIZE(field) c.set_##field(ToProtoSize(o.field))
#define TAO_TO_DURATION(field) *c.mutable_##field() = ToProto(o.field)

// --- Structs ---

void FromConfig(const config::ConnectionConfig& c, ConnectionOptions& o) {
  TAO_FROM(high_water_mark);
  TAO_FROM(low_water_mark);
  TAO_FROM(max_output_bytes);
  TAO_FROM(overflow_policy);
  TAO_FROM_SAME(tcp_no_delay);
  TAO_FROM_SAME(keep_alive);
  TAO_FROM_DURATION(handshake_timeout);
  TAO_FROM_DURATION(linger);
}

void ToConfig(const ConnectionOptions& o, config::ConnectionConfig& c) {
  TAO_TO_SIZE(high_water_mark);
  TAO_TO_SIZE(low_water_mark);
  TAO_TO_SIZE(max_output_bytes);
  TAO_TO(overflow_policy);
  TAO_TO_SAME(tcp_no_delay);
  TAO_TO_SAME(keep_alive);
  TAO_TO_DURATION(handshake_timeout);
  TAO_TO_DURATION(linger);
}

void FromConfig(const config::ReconnectConfig& c, ReconnectPolicy& o) {
  TAO_FROM_SAME(enabled);
  TAO_FROM_DURATION(initial_backoff);
  TAO_FROM_SAME(multiplier);
  TAO_FROM_SAME(jitter);
  TAO_FROM_DURATION(max_backoff);
  TAO_FROM_SAME(max_attempts);
  TAO_FROM_DURATION(healthy_after);
}

void ToConfig(const ReconnectPolicy& o, config::ReconnectConfig& c) {
  TAO_TO_SAME(enabled);
  TAO_TO_DURATION(initial_backoff);
  TAO_TO_SAME(multiplier);
  TAO_TO_SAME(jitter);
  TAO_TO_DURATION(max_backoff);
  TAO_TO_SAME(max_attempts);
  TAO_TO_DURATION(healthy_after);
}

void FromConfig(const config::HeartbeatConfig& c, HeartbeatOptions& o) {
  TAO_FROM_DURATION(interval);
  TAO_FROM_DURATION(timeout);
  TAO_FROM_DURATION(reader_idle);
  TAO_FROM_DURATION(writer_idle);
}

void ToConfig(const HeartbeatOptions& o, config::HeartbeatConfig& c) {
  TAO_TO_DURATION(interval);
  TAO_TO_DURATION(timeout);
  TAO_TO_DURATION(reader_idle);
  TAO_TO_DURATION(writer_idle);
}

TlsOptions FromConfig(const config::TlsConfig& c) {
  TlsOptions o;
  TAO_FROM_SAME(cert_chain_file);
  TAO_FROM_SAME(cert_chain_pem);
  TAO_FROM_SAME(private_key_file);
  TAO_FROM_SAME(private_key_pem);
  TAO_FROM_SAME(check_certificate_expiry);
  TAO_FROM_SAME(ca_file);
  TAO_FROM_SAME(ca_pem);
  TAO_FROM_SAME(verify_peer);
  TAO_FROM_SAME(server_name);
  TAO_FROM(client_auth);
  TAO_FROM(min_version);
  TAO_FROM(max_version);
  o.alpn.assign(c.alpn().begin(), c.alpn().end());
  TAO_FROM_SAME(session_resumption);
  o.ticket_keys.assign(c.ticket_keys().begin(), c.ticket_keys().end());
  TAO_FROM_DURATION(ticket_key_rotation);
  TAO_FROM(session_cache_size);
  TAO_FROM(max_concurrent_handshakes);
  TAO_FROM_SAME(max_full_handshakes_per_second);
  TAO_FROM(full_handshake_burst);
  return o;
}

config::TlsConfig ToConfig(const TlsOptions& o) {
  config::TlsConfig c;
  TAO_TO_SAME(cert_chain_file);
  TAO_TO_SAME(cert_chain_pem);
  TAO_TO_SAME(private_key_file);
  TAO_TO_SAME(private_key_pem);
  TAO_TO_SAME(check_certificate_expiry);
  TAO_TO_SAME(ca_file);
  TAO_TO_SAME(ca_pem);
  TAO_TO_SAME(verify_peer);
  TAO_TO_SAME(server_name);
  TAO_TO(client_auth);
  TAO_TO(min_version);
  TAO_TO(max_version);
  c.mutable_alpn()->Assign(o.alpn.begin(), o.alpn.end());
  TAO_TO_SAME(session_resumption);
  c.mutable_ticket_keys()->Assign(o.ticket_keys.begin(), o.ticket_keys.end());
  TAO_TO_DURATION(ticket_key_rotation);
  TAO_TO_SIZE(session_cache_size);
  TAO_TO_SIZE(max_concurrent_handshakes);
  TAO_TO_SAME(max_full_handshakes_per_second);
  TAO_TO_SIZE(full_handshake_burst);
  return c;
}

// What ServerConfig and ClientConfig share: the settings-level fields, the
// connection, TLS and tao::MessageOptions (the same field names in both).
template <typename Config, typename Settings>
void SharedFromConfig(const Config& config, Settings& settings) {
  settings.address = config.address();
  settings.metrics_address = config.metrics_address();
  if (config.has_tls()) settings.tls = FromConfig(config.tls());
  FromConfig(config.connection(), settings.options.connection);
  FromConfig(config.heartbeat(), settings.options.heartbeat);
  const Config& c = config;
  MessageOptions& o = settings.options;
  TAO_FROM_SAME(handler_threads);
  TAO_FROM(unknown_type_policy);
  TAO_FROM_DURATION(frame_timeout);
  TAO_FROM(max_queued_messages);
  TAO_FROM(max_queued_bytes);
  TAO_FROM(max_total_queued_bytes);
}

template <typename Settings, typename Config>
void SharedToConfig(const Settings& settings, Config& config) {
  config.set_address(settings.address);
  config.set_metrics_address(settings.metrics_address);
  if (settings.tls.has_value()) *config.mutable_tls() = ToConfig(*settings.tls);
  ToConfig(settings.options.connection, *config.mutable_connection());
  ToConfig(settings.options.heartbeat, *config.mutable_heartbeat());
  Config& c = config;
  const MessageOptions& o = settings.options;
  TAO_TO_SAME(handler_threads);
  TAO_TO(unknown_type_policy);
  TAO_TO_DURATION(frame_timeout);
  TAO_TO_SIZE(max_queued_messages);
  TAO_TO_SIZE(max_queued_bytes);
  TAO_TO_SIZE(max_total_queued_bytes);
}

}  // namespace

ServerSettings FromConfig(const config::ServerConfig& c) {
  ServerSettings settings;
  SharedFromConfig(c, settings);
  TcpServerOptions& o = settings.options;
  TAO_FROM_SAME(io_threads);
  TAO_FROM_SAME(reuse_port);
  TAO_FROM(max_connections);
  TAO_FROM_DURATION(evict_idle_after);
  TAO_FROM(max_connections_per_ip);
  TAO_FROM(max_total_output_bytes);
  TAO_FROM(max_total_held_input_bytes);
  return settings;
}

ClientSettings FromConfig(const config::ClientConfig& c) {
  ClientSettings settings;
  SharedFromConfig(c, settings);
  TcpClientOptions& o = settings.options;
  TAO_FROM_DURATION(connect_timeout);
  FromConfig(c.reconnect(), o.reconnect);
  return settings;
}

config::ServerConfig ToConfig(const ServerSettings& settings) {
  config::ServerConfig c;
  SharedToConfig(settings, c);
  const TcpServerOptions& o = settings.options;
  TAO_TO_SAME(io_threads);
  TAO_TO_SAME(reuse_port);
  TAO_TO_SIZE(max_connections);
  TAO_TO_DURATION(evict_idle_after);
  TAO_TO_SIZE(max_connections_per_ip);
  TAO_TO_SIZE(max_total_output_bytes);
  TAO_TO_SIZE(max_total_held_input_bytes);
  return c;
}

config::ClientConfig ToConfig(const ClientSettings& settings) {
  config::ClientConfig c;
  SharedToConfig(settings, c);
  const TcpClientOptions& o = settings.options;
  TAO_TO_DURATION(connect_timeout);
  ToConfig(o.reconnect, *c.mutable_reconnect());
  return c;
}

#undef TAO_FROM
#undef TAO_FROM_SAME
#undef TAO_FROM_DURATION
#undef TAO_TO
#undef TAO_TO_SAME
#undef TAO_TO_SIZE
#undef TAO_TO_DURATION

}  // namespace tao
