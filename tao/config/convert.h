// Conversions between the parts of the config messages (config.proto) that
// describe the byte layer and TLS and their option structs (tao/net/
// options.h, tao/tls/tls_context.h), in both directions, field by field.
// tao/message/config.h converts a whole ServerConfig / ClientConfig with
// these plus the message layer's own fields.
//
// FromConfig copies every field that is set onto `options` and leaves the
// others as they are; it does not validate (validate.h does). ToConfig sets
// every field it covers, so that FromConfig(ToConfig(o)) equals o for every
// field config.proto carries. tao/message/config_drift_test.cc keeps the
// two sides from drifting apart.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_CONVERT_H_
#define TAO_CONFIG_CONVERT_H_

#include "tao/config/config.pb.h"
#include "tao/net/options.h"
#include "tao/tls/tls_context.h"

namespace tao {

void FromConfig(const config::ConnectionConfig& config,
                ConnectionOptions& options);
void ToConfig(const ConnectionOptions& options,
              config::ConnectionConfig& config);

void FromConfig(const config::ReconnectConfig& config,
                ReconnectPolicy& options);
void ToConfig(const ReconnectPolicy& options, config::ReconnectConfig& config);

// A fresh TlsOptions with the fields `config` sets.
TlsOptions FromConfig(const config::TlsConfig& config);
config::TlsConfig ToConfig(const TlsOptions& options);

// The TcpServerOptions / TcpClientOptions fields of a ServerConfig /
// ClientConfig, connection (EndpointOptions) and reconnect included. Not
// EndpointOptions::tls, an object built from the config's tls field
// (tao/message/config.h, MakeServerOptions).
void FromConfig(const config::ServerConfig& config, TcpServerOptions& options);
void ToConfig(const TcpServerOptions& options, config::ServerConfig& config);
void FromConfig(const config::ClientConfig& config, TcpClientOptions& options);
void ToConfig(const TcpClientOptions& options, config::ClientConfig& config);

}  // namespace tao

#endif  // TAO_CONFIG_CONVERT_H_
