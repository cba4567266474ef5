#include "tao/config/json.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tao/config/config.pb.h"

namespace tao {
namespace {

std::string Error(const std::string& json) {
  config::ServerConfig config;
  return ParseConfigJson(json, "server", &config).ToString();
}

TEST(ParseConfigJsonTest, ReadsBothSpellingsOfNames) {
  config::ServerConfig config;
  ASSERT_TRUE(ParseConfigJson(R"({"io_threads": 2,
      "connection": {"lowWaterMark": "1024", "linger": "0.250s"},
      "tls": {"alpn": ["tao/1"]}})",
                              "server", &config)
                  .ok());
  EXPECT_EQ(config.io_threads(), 2);
  EXPECT_EQ(config.connection().low_water_mark(), 1024);
  EXPECT_EQ(config.connection().linger().nanos(), 250000000);
  EXPECT_EQ(config.tls().alpn(0), "tao/1");
}

TEST(ParseConfigJsonTest, UnknownField) {
  EXPECT_EQ(Error(R"({"connection": {"lo_water_mark": 1}})"),
            "INVALID_ARGUMENT: server.connection.lo_water_mark is not a field "
            "of tao.config.ConnectionConfig");
  EXPECT_EQ(Error(R"({"threads": 1})"),
            "INVALID_ARGUMENT: server.threads is not a field of "
            "tao.config.ServerConfig");
}

TEST(ParseConfigJsonTest, WrongType) {
  EXPECT_EQ(Error(R"({"io_threads": "two"})"),
            "INVALID_ARGUMENT: server.io_threads (\"two\") is not an int32");
  EXPECT_EQ(Error(R"({"io_threads": 1.5})"),
            "INVALID_ARGUMENT: server.io_threads (1.5) is not an int32");
  EXPECT_EQ(Error(R"({"reuse_port": 1})"),
            "INVALID_ARGUMENT: server.reuse_port (1) is not a bool (true or "
            "false)");
  EXPECT_EQ(Error(R"({"connection": {"highWaterMark": "lots"}})"),
            "INVALID_ARGUMENT: server.connection.high_water_mark (\"lots\") is "
            "not an int64");
  EXPECT_EQ(Error(R"({"address": 12345})"),
            "INVALID_ARGUMENT: server.address (12345) is not a string");
  EXPECT_EQ(Error(R"({"heartbeat": {"interval": "5"}})"),
            "INVALID_ARGUMENT: server.heartbeat.interval (\"5\") is not a "
            "duration such as \"5s\" or \"0.250s\"");
  EXPECT_EQ(Error(R"({"connection": {"overflow_policy": "CLOSE"}})"),
            "INVALID_ARGUMENT: server.connection.overflow_policy (\"CLOSE\") "
            "is not one of DISCONNECT, DROP_NEWEST, PAUSE_READING");
  EXPECT_EQ(Error(R"({"tls": {"alpn": ["tao/1", 2]}})"),
            "INVALID_ARGUMENT: server.tls.alpn[1] (2) is not a string");
  EXPECT_EQ(Error(R"({"connection": 3})"),
            "INVALID_ARGUMENT: server.connection (3) is not an object");
}

TEST(ParseConfigJsonTest, NotJsonOrNotAnObject) {
  EXPECT_EQ(Error("io_threads = 2"),
            "INVALID_ARGUMENT: server: not JSON (Unexpected token.)");
  EXPECT_EQ(Error(R"({"io_threads": 2,)"),
            "INVALID_ARGUMENT: server: not JSON (Unexpected end of string. "
            "Expected an object key or }.)");
  EXPECT_EQ(Error(""),
            "INVALID_ARGUMENT: server: not JSON (Unexpected end of string. "
            "Expected a value.)");
  EXPECT_EQ(Error("[1, 2]"),
            "INVALID_ARGUMENT: server ([1,2]) is not a JSON object");
}

}  // namespace
}  // namespace tao
