// The checks of the byte layer's and TLS's parts, one at a time, on the
// option structs. //tao/message:config_test checks them through whole JSON
// configs, with the message layer's.
#include "tao/config/validate.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tao/config/config.pb.h"
#include "tao/config/convert.h"
#include "tao/config/json.h"

namespace tao {
namespace {

std::string ValuesError(const std::string& json) {
  config::ClientConfig config;
  absl::Status parsed = ParseConfigJson(json, "client", &config);
  if (!parsed.ok()) return parsed.ToString();
  return ValidateConfigValues(config, "client").ToString();
}

TEST(ValidateConfigValuesTest, EveryFieldByItsType) {
  EXPECT_EQ(ValuesError("{}"), "OK");
  EXPECT_EQ(ValuesError(R"({"connection": {"linger": "-1s"}})"),
            "INVALID_ARGUMENT: client.connection.linger (\"-1s\") is negative");
  EXPECT_EQ(ValuesError(R"({"tls": {"session_cache_size": -1}})"),
            "INVALID_ARGUMENT: client.tls.session_cache_size (-1) is negative");
  EXPECT_EQ(ValuesError(R"({"reconnect": {"jitter": "Infinity"}})"),
            "INVALID_ARGUMENT: client.reconnect.jitter (inf) is not a finite "
            "number");
  EXPECT_EQ(ValuesError(R"({"tls": {"client_auth": 9}})"),
            "INVALID_ARGUMENT: client.tls.client_auth (9) is not one of NONE, "
            "OPTIONAL, REQUIRE");
  // Thread counts have their own rule.
  EXPECT_EQ(ValuesError(R"({"handler_threads": -1})"), "OK");
}

TEST(ValidateTest, AddressesAndThreadCounts) {
  EXPECT_TRUE(ValidateAddress("a", "", false).ok());
  EXPECT_TRUE(ValidateAddress("a", "unix:/tmp/s", false).ok());
  EXPECT_TRUE(ValidateAddress("a", "tao.test:80", true).ok());
  EXPECT_EQ(ValidateAddress("a", "tao.test:80", false).ToString(),
            "INVALID_ARGUMENT: a (\"tao.test:80\") is not an address: host "
            "names are not resolved; use a numeric address (or localhost)");
  EXPECT_TRUE(ValidateThreadCount("t", 0, true).ok());
  EXPECT_EQ(ValidateThreadCount("t", 0, false).ToString(),
            "INVALID_ARGUMENT: t (0) is not a thread count (N > 0, or -1 for "
            "one per core)");
}

TEST(ValidateTest, ConnectionAndReconnect) {
  ConnectionOptions connection;
  EXPECT_TRUE(ValidateConnectionOptions("c", connection).ok());
  connection.high_water_mark = connection.max_output_bytes + 1;
  EXPECT_EQ(
      ValidateConnectionOptions("c", connection).ToString(),
      absl::StrCat("INVALID_ARGUMENT: c.high_water_mark (",
                   connection.high_water_mark, ") is above max_output_bytes (",
                   connection.max_output_bytes, ")"));
  ReconnectPolicy reconnect;
  EXPECT_TRUE(ValidateReconnectPolicy("r", reconnect).ok());
  reconnect.max_backoff = reconnect.initial_backoff / 2;
  EXPECT_EQ(ValidateReconnectPolicy("r", reconnect).ToString(),
            "INVALID_ARGUMENT: r.max_backoff (\"0.050s\") is below "
            "initial_backoff (\"0.100s\")");
}

TEST(ValidateTest, Tls) {
  TlsOptions tls;
  tls.verify_peer = false;
  EXPECT_TRUE(ValidateTlsOptions("t", tls, false).ok());
  EXPECT_EQ(ValidateTlsOptions("t", tls, true).ToString(),
            "INVALID_ARGUMENT: t needs a certificate and its key on a server "
            "(cert_chain_file or cert_chain_pem, private_key_file or "
            "private_key_pem)");
  tls.cert_chain_pem = "-----BEGIN";
  EXPECT_EQ(ValidateTlsOptions("t", tls, true).ToString(),
            "INVALID_ARGUMENT: t.cert_chain_pem (PEM text, 10 bytes) is set "
            "without its private key (private_key_file or private_key_pem)");
  tls.private_key_file = "k.pem";
  tls.ticket_keys = {std::string(47, 'k')};
  EXPECT_EQ(ValidateTlsOptions("t", tls, true).ToString(),
            "INVALID_ARGUMENT: t.ticket_keys[0] (47 bytes) is not 48 bytes");
}

TEST(ConvertTest, ByteLayerFieldsRoundTrip) {
  config::ServerConfig config;
  ASSERT_TRUE(ParseConfigJson(R"({"io_threads": 3, "handler_threads": 7,
      "connection": {"overflow_policy": "DROP_NEWEST"},
      "tls": {"min_version": "TLS_1_3"}})",
                              "server", &config)
                  .ok());
  TcpServerOptions options;
  FromConfig(config, options);
  EXPECT_EQ(options.io_threads, 3);
  EXPECT_EQ(options.connection.overflow_policy, OverflowPolicy::kDropNewest);
  EXPECT_EQ(FromConfig(config.tls()).min_version, TlsVersion::kTls13);
  config::ServerConfig back;
  ToConfig(options, back);
  EXPECT_EQ(back.io_threads(), 3);
  EXPECT_FALSE(back.has_handler_threads());  // the message layer's
  EXPECT_EQ(back.connection().overflow_policy(),
            config::ConnectionConfig::DROP_NEWEST);
}

}  // namespace
}  // namespace tao
