#include "tao/message/config.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tao/config/config.pb.h"
#include "tao/config/json.h"
#include "tao/tls/test_certs.h"

namespace tao {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), file);
  std::fclose(file);
  return path;
}

TEST(ConfigTest, ParsesAServerConfig) {
  absl::StatusOr<ServerSettings> settings = ParseServerConfig(R"({
    "address": "127.0.0.1:0",
    "metrics_address": "127.0.0.1:9090",
    "io_threads": 2,
    "handler_threads": 0,
    "connection": {"high_water_mark": 65536, "low_water_mark": 16384,
                   "overflow_policy": "PAUSE_READING", "linger": "1.5s"},
    "heartbeat": {"interval": "5s", "timeout": "15s"}
  })");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->address, "127.0.0.1:0");
  EXPECT_EQ(settings->metrics_address, "127.0.0.1:9090");
  EXPECT_EQ(settings->options.io_threads, 2);
  EXPECT_EQ(settings->options.handler_threads, 0);
  EXPECT_EQ(settings->options.connection.high_water_mark, 65536u);
  EXPECT_EQ(settings->options.connection.low_water_mark, 16384u);
  EXPECT_EQ(settings->options.connection.overflow_policy,
            OverflowPolicy::kPauseReading);
  EXPECT_EQ(settings->options.connection.linger, absl::Milliseconds(1500));
  EXPECT_EQ(settings->options.heartbeat.interval, absl::Seconds(5));
  EXPECT_EQ(settings->options.heartbeat.timeout, absl::Seconds(15));
  // What the file does not say keeps the defaults.
  EXPECT_EQ(settings->options.max_connections, ServerOptions().max_connections);
  EXPECT_EQ(settings->options.connection.max_output_bytes,
            ConnectionOptions().max_output_bytes);
  EXPECT_FALSE(settings->tls.has_value());
}

TEST(ConfigTest, ParsesAClientConfig) {
  absl::StatusOr<ClientSettings> settings = ParseClientConfig(R"({
    "address": "localhost:12345",
    "connect_timeout": "2s",
    "reconnect": {"enabled": true, "max_attempts": 3},
    "tls": {"ca_file": "ca.pem", "server_name": "tao.test", "alpn": ["tao/1"]}
  })");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->options.connect_timeout, absl::Seconds(2));
  EXPECT_TRUE(settings->options.reconnect.enabled);
  EXPECT_EQ(settings->options.reconnect.max_attempts, 3);
  EXPECT_EQ(settings->options.handler_threads, 0);  // a client's default
  ASSERT_TRUE(settings->tls.has_value());
  EXPECT_EQ(settings->tls->ca_file, "ca.pem");
  EXPECT_EQ(settings->tls->server_name, "tao.test");
  EXPECT_EQ(settings->tls->alpn, std::vector<std::string>{"tao/1"});
}

TEST(ConfigTest, ParseErrorsNameTheRoot) {
  EXPECT_EQ(ParseServerConfig(R"({"io_threads": 0})").status().ToString(),
            "INVALID_ARGUMENT: server.io_threads (0) is not a thread count (N "
            "> 0, or -1 for one per core)");
  EXPECT_EQ(ParseClientConfig(R"({"io_threads": 2})").status().ToString(),
            "INVALID_ARGUMENT: client.io_threads is not a field of "
            "tao.config.ClientConfig");
}

TEST(ConfigTest, LoadsAFile) {
  const std::string path =
      WriteFile("server.json", R"({"address": "[::1]:0", "reuse_port": true})");
  absl::StatusOr<ServerSettings> settings = LoadServerConfig(path);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->address, "[::1]:0");
  EXPECT_TRUE(settings->options.reuse_port);
}

TEST(ConfigTest, LoadErrorsNameTheFile) {
  const std::string bad =
      WriteFile("bad.json", R"({"connection": {"low_water_mark": 2097152,
                                      "high_water_mark": 1048576}})");
  EXPECT_EQ(LoadServerConfig(bad).status().ToString(),
            absl::StrCat("INVALID_ARGUMENT: ", bad,
                         ": server.connection.low_water_mark (2097152) is "
                         "above high_water_mark (1048576)"));
  const std::string text = WriteFile("text.json", "io_threads: 2\n");
  EXPECT_EQ(LoadClientConfig(text).status().ToString(),
            absl::StrCat("INVALID_ARGUMENT: ", text,
                         ": client: not JSON (Unexpected token.)"));
  const std::string empty = WriteFile("empty.json", "");
  EXPECT_EQ(LoadServerConfig(empty).status().ToString(),
            absl::StrCat("INVALID_ARGUMENT: ", empty,
                         ": server: not JSON (Unexpected end of string. "
                         "Expected a value.)"));
}

TEST(ConfigTest, FileThatCannotBeRead) {
  const std::string missing = TempPath("no-such.json");
  EXPECT_EQ(LoadServerConfig(missing).status().ToString(),
            absl::StrCat("NOT_FOUND: cannot read config file ", missing,
                         ": No such file or directory"));
  // A directory opens but does not read.
  const std::string dir = TempPath("");
  EXPECT_EQ(LoadClientConfig(dir).status().ToString(),
            absl::StrCat("FAILED_PRECONDITION: cannot read config file ", dir,
                         ": Is a directory"));
  const std::string huge =
      WriteFile("huge.json", std::string((size_t{1} << 20) + 1, ' '));
  EXPECT_EQ(LoadServerConfig(huge).status().ToString(),
            absl::StrCat("INVALID_ARGUMENT: ", huge,
                         ": larger than 1 MiB; not a config file?"));
}

TEST(ConfigTest, MakeOptionsBuildsTls) {
  absl::StatusOr<testing::TestCerts> certs = testing::MakeTestCerts();
  ASSERT_TRUE(certs.ok()) << certs.status();
  ServerSettings server;
  EXPECT_EQ(MakeServerOptions(server)->tls, nullptr);  // plain TCP
  server.tls = TlsOptions();
  server.tls->cert_chain_pem = certs->server.cert_pem;
  server.tls->private_key_pem = certs->server.key_pem;
  absl::StatusOr<ServerOptions> options = MakeServerOptions(server);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_NE(options->tls, nullptr);

  ClientSettings client;
  client.tls = TlsOptions();
  client.tls->ca_pem = certs->ca.cert_pem;
  absl::StatusOr<ClientOptions> client_options = MakeClientOptions(client);
  ASSERT_TRUE(client_options.ok()) << client_options.status();
  EXPECT_NE(client_options->tls, nullptr);
}

TEST(ConfigTest, MakeOptionsValidatesAndReportsTlsErrors) {
  ServerSettings server;
  server.options.connection.low_water_mark = 10;
  server.options.connection.high_water_mark = 5;
  EXPECT_EQ(MakeServerOptions(server).status().ToString(),
            "INVALID_ARGUMENT: server.connection.low_water_mark (10) is above "
            "high_water_mark (5)");
  server = ServerSettings();
  server.tls = TlsOptions();
  server.tls->cert_chain_file = TempPath("missing.pem");
  server.tls->private_key_file = TempPath("missing.key");
  const absl::Status status = MakeServerOptions(server).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find("missing.pem"), absl::string_view::npos)
      << status;
}

// --- Validation, through whole configs ---

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

TEST(ValidateTest, ProxyProtocol) {
  EXPECT_EQ(ServerError(R"({"proxy_protocol": {"trusted_sources":
      ["127.0.0.1", "10.0.0.0/8", "::1"], "header_timeout": "1s",
      "max_pending_headers": 10}})"),
            "OK");
  EXPECT_EQ(
      ServerError(
          R"({"proxy_protocol": {"trusted_sources": ["127.0.0.1", "lb1"]}})"),
      "INVALID_ARGUMENT: server.proxy_protocol.trusted_sources[1] (\"lb1\") "
      "is not an IP address or range: not an IPv4 or IPv6 address (host "
      "names are not resolved)");
  EXPECT_EQ(
      ServerError(R"({"proxy_protocol": {"trusted_sources": ["::1"],
      "header_timeout": "0s"}})"),
      "INVALID_ARGUMENT: server.proxy_protocol.header_timeout (\"0s\") is "
      "not positive");
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
