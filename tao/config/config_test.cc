#include "tao/config/config.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace tao
