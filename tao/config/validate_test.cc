#include "tao/config/validate.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tao/config/config.pb.h"
#include "tao/config/convert.h"
#include "tao/config/json.h"

namespace tao {
namespace {

std::string ServerError(const std::string& json) {
  config::ServerConfig config;
  absl::Status parsed = ParseConfigJson(json, "server", &config);
  if (!parsed.ok()) return parsed.ToString();
  return ValidateServerConfig(config).ToString();
}

std::string ClientError(const std::string& json) {
  config::ClientConfig config;
  absl::Status parsed = ParseConfigJson(json, "client", &config);
  if (!parsed.ok()) return parsed.ToString();
  return ValidateClientConfig(config).ToString();
}

TEST(ValidateTest, DefaultsAndAnEmptyConfigAreValid) {
  EXPECT_EQ(ServerError("{}"), "OK");
  EXPECT_EQ(ClientError("{}"), "OK");
  EXPECT_TRUE(ValidateServerSettings(ServerSettings()).ok());
  EXPECT_TRUE(ValidateClientSettings(ClientSettings()).ok());
}

TEST(ValidateTest, NegativeSizesCountsAndDurations) {
  EXPECT_EQ(ServerError(R"({"connection": {"max_output_bytes": -1}})"),
            "INVALID_ARGUMENT: server.connection.max_output_bytes (-1) is "
            "negative");
  EXPECT_EQ(ServerError(R"({"max_connections": -5})"),
            "INVALID_ARGUMENT: server.max_connections (-5) is negative");
  EXPECT_EQ(
      ServerError(R"({"heartbeat": {"timeout": "-15s"}})"),
      "INVALID_ARGUMENT: server.heartbeat.timeout (\"-15s\") is negative");
  EXPECT_EQ(ClientError(R"({"reconnect": {"max_attempts": -1}})"),
            "INVALID_ARGUMENT: client.reconnect.max_attempts (-1) is negative");
  EXPECT_EQ(ServerError(R"({"tls": {"max_full_handshakes_per_second": -2}})"),
            "INVALID_ARGUMENT: server.tls.max_full_handshakes_per_second (-2) "
            "is negative");
}

TEST(ValidateTest, WaterMarks) {
  EXPECT_EQ(ServerError(R"({"connection": {"low_water_mark": 2097152,
                                            "high_water_mark": 1048576}})"),
            "INVALID_ARGUMENT: server.connection.low_water_mark (2097152) is "
            "above high_water_mark (1048576)");
  // Against the default high water mark (4 MiB).
  EXPECT_EQ(ClientError(R"({"connection": {"low_water_mark": 8388608}})"),
            "INVALID_ARGUMENT: client.connection.low_water_mark (8388608) is "
            "above high_water_mark (4194304)");
  EXPECT_EQ(ServerError(R"({"connection": {"max_output_bytes": 1024}})"),
            "INVALID_ARGUMENT: server.connection.high_water_mark (4194304) is "
            "above max_output_bytes (1024)");
}

TEST(ValidateTest, ThreadCounts) {
  EXPECT_EQ(ServerError(R"({"io_threads": 0})"),
            "INVALID_ARGUMENT: server.io_threads (0) is not a thread count (N "
            "> 0, or -1 for one per core)");
  EXPECT_EQ(ServerError(R"({"io_threads": -2})"),
            "INVALID_ARGUMENT: server.io_threads (-2) is not a thread count (N "
            "> 0, or -1 for one per core)");
  EXPECT_EQ(ServerError(R"({"handler_threads": -3})"),
            "INVALID_ARGUMENT: server.handler_threads (-3) is not a thread "
            "count (0 inline, N > 0, or -1 for one per core)");
  EXPECT_EQ(ServerError(R"({"io_threads": -1, "handler_threads": 0})"), "OK");
}

TEST(ValidateTest, EnumsMustBeNamedValues) {
  EXPECT_EQ(ServerError(R"({"connection": {"overflow_policy": 7}})"),
            "INVALID_ARGUMENT: server.connection.overflow_policy (7) is not "
            "one of DISCONNECT, DROP_NEWEST, PAUSE_READING");
  EXPECT_EQ(ServerError(R"({"unknown_type_policy":
                            "UNKNOWN_TYPE_POLICY_UNSPECIFIED"})"),
            "INVALID_ARGUMENT: server.unknown_type_policy "
            "(\"UNKNOWN_TYPE_POLICY_UNSPECIFIED\") is not one of SKIP, CLOSE");
}

TEST(ValidateTest, Addresses) {
  EXPECT_EQ(ServerError(R"({"address": "localhost"})"),
            "INVALID_ARGUMENT: server.address (\"localhost\") is not an "
            "address: missing port (expected host:port, e.g. 127.0.0.1:80)");
  EXPECT_EQ(ServerError(R"({"metrics_address": "1.2.3.4:99999"})"),
            "INVALID_ARGUMENT: server.metrics_address (\"1.2.3.4:99999\") is "
            "not an address: bad port \"99999\" (expected 0..65535)");
  // A server listens on numeric addresses only; a client may dial a name.
  EXPECT_EQ(ServerError(R"({"address": "example.com:80"})"),
            "INVALID_ARGUMENT: server.address (\"example.com:80\") is not an "
            "address: host names are not resolved; use a numeric address (or "
            "localhost)");
  EXPECT_EQ(ClientError(R"({"address": "example.com:80",
                            "metrics_address": "127.0.0.1:9090"})"),
            "OK");
}

TEST(ValidateTest, TlsPairs) {
  EXPECT_EQ(ServerError(R"({"tls": {"private_key_file": "server.key"}})"),
            "INVALID_ARGUMENT: server.tls.private_key_file (\"server.key\") is "
            "set without a certificate (cert_chain_file or cert_chain_pem)");
  EXPECT_EQ(ServerError(R"({"tls": {"cert_chain_file": "server.pem"}})"),
            "INVALID_ARGUMENT: server.tls.cert_chain_file (\"server.pem\") is "
            "set without its private key (private_key_file or "
            "private_key_pem)");
  EXPECT_EQ(ClientError(R"({"tls": {"private_key_pem": "-----BEGIN",
                                    "ca_file": "ca.pem"}})"),
            "INVALID_ARGUMENT: client.tls.private_key_pem (PEM text, 10 bytes) "
            "is set without a certificate (cert_chain_file or cert_chain_pem)");
  EXPECT_EQ(ServerError(R"({"tls": {"ca_file": "ca.pem", "ca_pem": "x"}})"),
            "INVALID_ARGUMENT: server.tls.ca_pem (PEM text, 1 bytes) is set "
            "together with ca_file (\"ca.pem\"): set one of them");
  EXPECT_EQ(ServerError(R"({"tls": {}})"),
            "INVALID_ARGUMENT: server.tls needs a certificate and its key on a "
            "server (cert_chain_file or cert_chain_pem, private_key_file or "
            "private_key_pem)");
  EXPECT_EQ(ClientError(R"({"tls": {}})"),
            "INVALID_ARGUMENT: client.tls needs ca_file or ca_pem to verify "
            "the server (or verify_peer false)");
  EXPECT_EQ(ClientError(R"({"tls": {"verify_peer": false}})"), "OK");
}

TEST(ValidateTest, TlsProtocol) {
  const std::string cert =
      R"("cert_chain_file": "s.pem", "private_key_file": "s.key")";
  EXPECT_EQ(ServerError(R"({"tls": {)" + cert +
                        R"(, "min_version": "TLS_1_3",
                              "max_version": "TLS_1_2"}})"),
            "INVALID_ARGUMENT: server.tls.min_version (\"TLS_1_3\") is above "
            "max_version (\"TLS_1_2\")");
  EXPECT_EQ(
      ServerError(R"({"tls": {)" + cert + R"(, "alpn": ["tao/1", ""]}})"),
      "INVALID_ARGUMENT: server.tls.alpn[1] (\"\") is not 1 to 255 bytes");
  EXPECT_EQ(
      ServerError(R"({"tls": {)" + cert + R"(, "ticket_keys": ["AAAA"]}})"),
      "INVALID_ARGUMENT: server.tls.ticket_keys[0] (3 bytes) is not 48 "
      "bytes");
  EXPECT_EQ(ServerError(R"({"tls": {)" + cert +
                        R"(, "alpn": ["tao/1"], "client_auth": "REQUIRE",
                              "ca_file": "ca.pem"}})"),
            "OK");
}

TEST(ValidateTest, Reconnect) {
  EXPECT_EQ(ClientError(R"({"reconnect": {"multiplier": 0.5}})"),
            "INVALID_ARGUMENT: client.reconnect.multiplier (0.5) is below 1");
  EXPECT_EQ(ClientError(R"({"reconnect": {"jitter": 1.5}})"),
            "INVALID_ARGUMENT: client.reconnect.jitter (1.5) is above 1");
  EXPECT_EQ(ClientError(R"({"reconnect": {"max_backoff": "0.050s"}})"),
            "INVALID_ARGUMENT: client.reconnect.max_backoff (\"0.050s\") is "
            "below initial_backoff (\"0.100s\")");
  EXPECT_EQ(ClientError(R"({"reconnect": {"multiplier": "NaN"}})"),
            "INVALID_ARGUMENT: client.reconnect.multiplier (nan) is not a "
            "finite number");
}

TEST(ValidateTest, SettingsChangedAfterLoading) {
  ServerSettings settings;
  settings.options.io_threads = 0;
  EXPECT_EQ(ValidateServerSettings(settings).ToString(),
            "INVALID_ARGUMENT: server.io_threads (0) is not a thread count (N "
            "> 0, or -1 for one per core)");
  ClientSettings client;
  client.options.heartbeat.interval = absl::Seconds(-1);
  EXPECT_EQ(
      ValidateClientSettings(client).ToString(),
      "INVALID_ARGUMENT: client.heartbeat.interval (\"-1s\") is negative");
}

}  // namespace
}  // namespace tao
