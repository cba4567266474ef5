#include "tao/config/convert.h"

#include "tao/config/copy_fields.h"

namespace tao {
namespace {

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

void FromConfig(const config::ProxyProtocolConfig& c, ProxyProtocolOptions& o) {
  o.trusted_sources.assign(c.trusted_sources().begin(),
                           c.trusted_sources().end());
  TAO_CONFIG_FROM_DURATION(header_timeout);
  TAO_CONFIG_FROM_SIZE(max_pending_headers);
}

void ToConfig(const ProxyProtocolOptions& o, config::ProxyProtocolConfig& c) {
  c.mutable_trusted_sources()->Assign(o.trusted_sources.begin(),
                                      o.trusted_sources.end());
  TAO_CONFIG_TO_DURATION(header_timeout);
  TAO_CONFIG_TO_SIZE(max_pending_headers);
}

}  // namespace

void FromConfig(const config::ConnectionConfig& c, ConnectionOptions& o) {
  TAO_CONFIG_FROM_SIZE(high_water_mark);
  TAO_CONFIG_FROM_SIZE(low_water_mark);
  TAO_CONFIG_FROM_SIZE(max_output_bytes);
  TAO_CONFIG_FROM(overflow_policy);
  TAO_CONFIG_FROM_SAME(tcp_no_delay);
  TAO_CONFIG_FROM_SAME(keep_alive);
  TAO_CONFIG_FROM_DURATION(handshake_timeout);
  TAO_CONFIG_FROM_DURATION(linger);
}

void ToConfig(const ConnectionOptions& o, config::ConnectionConfig& c) {
  TAO_CONFIG_TO_SIZE(high_water_mark);
  TAO_CONFIG_TO_SIZE(low_water_mark);
  TAO_CONFIG_TO_SIZE(max_output_bytes);
  TAO_CONFIG_TO(overflow_policy);
  TAO_CONFIG_TO_SAME(tcp_no_delay);
  TAO_CONFIG_TO_SAME(keep_alive);
  TAO_CONFIG_TO_DURATION(handshake_timeout);
  TAO_CONFIG_TO_DURATION(linger);
}

void FromConfig(const config::ReconnectConfig& c, ReconnectPolicy& o) {
  TAO_CONFIG_FROM_SAME(enabled);
  TAO_CONFIG_FROM_DURATION(initial_backoff);
  TAO_CONFIG_FROM_SAME(multiplier);
  TAO_CONFIG_FROM_SAME(jitter);
  TAO_CONFIG_FROM_DURATION(max_backoff);
  TAO_CONFIG_FROM_SAME(max_attempts);
  TAO_CONFIG_FROM_DURATION(healthy_after);
}

void ToConfig(const ReconnectPolicy& o, config::ReconnectConfig& c) {
  TAO_CONFIG_TO_SAME(enabled);
  TAO_CONFIG_TO_DURATION(initial_backoff);
  TAO_CONFIG_TO_SAME(multiplier);
  TAO_CONFIG_TO_SAME(jitter);
  TAO_CONFIG_TO_DURATION(max_backoff);
  TAO_CONFIG_TO_SAME(max_attempts);
  TAO_CONFIG_TO_DURATION(healthy_after);
}

TlsOptions FromConfig(const config::TlsConfig& c) {
  TlsOptions o;
  TAO_CONFIG_FROM_SAME(cert_chain_file);
  TAO_CONFIG_FROM_SAME(cert_chain_pem);
  TAO_CONFIG_FROM_SAME(private_key_file);
  TAO_CONFIG_FROM_SAME(private_key_pem);
  TAO_CONFIG_FROM_SAME(check_certificate_expiry);
  TAO_CONFIG_FROM_SAME(ca_file);
  TAO_CONFIG_FROM_SAME(ca_pem);
  TAO_CONFIG_FROM_SAME(verify_peer);
  TAO_CONFIG_FROM_SAME(server_name);
  TAO_CONFIG_FROM(client_auth);
  TAO_CONFIG_FROM(min_version);
  TAO_CONFIG_FROM(max_version);
  o.alpn.assign(c.alpn().begin(), c.alpn().end());
  TAO_CONFIG_FROM_SAME(session_resumption);
  o.ticket_keys.assign(c.ticket_keys().begin(), c.ticket_keys().end());
  TAO_CONFIG_FROM_DURATION(ticket_key_rotation);
  TAO_CONFIG_FROM_SIZE(session_cache_size);
  TAO_CONFIG_FROM_SIZE(max_concurrent_handshakes);
  TAO_CONFIG_FROM_SAME(max_full_handshakes_per_second);
  TAO_CONFIG_FROM_SIZE(full_handshake_burst);
  return o;
}

config::TlsConfig ToConfig(const TlsOptions& o) {
  config::TlsConfig c;
  TAO_CONFIG_TO_SAME(cert_chain_file);
  TAO_CONFIG_TO_SAME(cert_chain_pem);
  TAO_CONFIG_TO_SAME(private_key_file);
  TAO_CONFIG_TO_SAME(private_key_pem);
  TAO_CONFIG_TO_SAME(check_certificate_expiry);
  TAO_CONFIG_TO_SAME(ca_file);
  TAO_CONFIG_TO_SAME(ca_pem);
  TAO_CONFIG_TO_SAME(verify_peer);
  TAO_CONFIG_TO_SAME(server_name);
  TAO_CONFIG_TO(client_auth);
  TAO_CONFIG_TO(min_version);
  TAO_CONFIG_TO(max_version);
  c.mutable_alpn()->Assign(o.alpn.begin(), o.alpn.end());
  TAO_CONFIG_TO_SAME(session_resumption);
  c.mutable_ticket_keys()->Assign(o.ticket_keys.begin(), o.ticket_keys.end());
  TAO_CONFIG_TO_DURATION(ticket_key_rotation);
  TAO_CONFIG_TO_SIZE(session_cache_size);
  TAO_CONFIG_TO_SIZE(max_concurrent_handshakes);
  TAO_CONFIG_TO_SAME(max_full_handshakes_per_second);
  TAO_CONFIG_TO_SIZE(full_handshake_burst);
  return c;
}

void FromConfig(const config::ServerConfig& c, TcpServerOptions& o) {
  FromConfig(c.connection(), o.connection);
  TAO_CONFIG_FROM_SAME(io_threads);
  TAO_CONFIG_FROM_SAME(reuse_port);
  TAO_CONFIG_FROM_SIZE(max_connections);
  TAO_CONFIG_FROM_DURATION(evict_idle_after);
  TAO_CONFIG_FROM_SIZE(max_connections_per_ip);
  TAO_CONFIG_FROM_SIZE(max_total_output_bytes);
  TAO_CONFIG_FROM_SIZE(max_total_held_input_bytes);
  FromConfig(c.proxy_protocol(), o.proxy_protocol);
}

void ToConfig(const TcpServerOptions& o, config::ServerConfig& c) {
  ToConfig(o.connection, *c.mutable_connection());
  TAO_CONFIG_TO_SAME(io_threads);
  TAO_CONFIG_TO_SAME(reuse_port);
  TAO_CONFIG_TO_SIZE(max_connections);
  TAO_CONFIG_TO_DURATION(evict_idle_after);
  TAO_CONFIG_TO_SIZE(max_connections_per_ip);
  TAO_CONFIG_TO_SIZE(max_total_output_bytes);
  TAO_CONFIG_TO_SIZE(max_total_held_input_bytes);
  ToConfig(o.proxy_protocol, *c.mutable_proxy_protocol());
}

void FromConfig(const config::ClientConfig& c, TcpClientOptions& o) {
  FromConfig(c.connection(), o.connection);
  TAO_CONFIG_FROM_DURATION(connect_timeout);
  FromConfig(c.reconnect(), o.reconnect);
}

void ToConfig(const TcpClientOptions& o, config::ClientConfig& c) {
  ToConfig(o.connection, *c.mutable_connection());
  TAO_CONFIG_TO_DURATION(connect_timeout);
  ToConfig(o.reconnect, *c.mutable_reconnect());
}

}  // namespace tao
