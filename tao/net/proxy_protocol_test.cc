#include "tao/net/proxy_protocol.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;

std::string V2(uint8_t ver_cmd, uint8_t family, absl::string_view body) {
  std::string out(kProxyV2Signature);
  out.push_back(static_cast<char>(ver_cmd));
  out.push_back(static_cast<char>(family));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xFF));
  out.append(body.data(), body.size());
  return out;
}

// 192.0.2.1:56324 -> 192.0.2.2:443
std::string V4Block() {
  return std::string("\xC0\x00\x02\x01\xC0\x00\x02\x02\xDC\x04\x01\xBB", 12);
}

// [2001:db8::1]:56324 -> [2001:db8::2]:443
std::string V6Block() {
  std::string block;
  for (char last : {'\x01', '\x02'}) {
    block += std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + last;
  }
  return block + std::string("\xDC\x04\x01\xBB", 4);
}

ProxyHeader ParseComplete(absl::string_view bytes) {
  absl::StatusOr<std::optional<ProxyHeader>> parsed = ParseProxyHeader(bytes);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok() || !parsed->has_value()) {
    ADD_FAILURE() << "incomplete";
    return {};
  }
  return **parsed;
}

std::string ErrorOf(absl::string_view bytes) {
  absl::StatusOr<std::optional<ProxyHeader>> parsed = ParseProxyHeader(bytes);
  if (parsed.ok()) {
    ADD_FAILURE() << "parsed: " << absl::CHexEscape(bytes);
    return "";
  }
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  return std::string(parsed.status().message());
}

bool NeedsMore(absl::string_view bytes) {
  absl::StatusOr<std::optional<ProxyHeader>> parsed = ParseProxyHeader(bytes);
  return parsed.ok() && !parsed->has_value();
}

TEST(ProxyProtocolTest, V1Tcp4) {
  const std::string line = "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n";
  const ProxyHeader header = ParseComplete(line + "GET / HTTP/1.0\r\n");
  EXPECT_EQ(header.version, 1);
  EXPECT_EQ(header.length, line.size());
  EXPECT_TRUE(header.has_addresses);
  EXPECT_EQ(header.source.ToString(), "192.0.2.1:56324");
  EXPECT_EQ(header.destination.ToString(), "192.0.2.2:443");
}

TEST(ProxyProtocolTest, V1Tcp6) {
  const ProxyHeader header =
      ParseComplete("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.2 0 65535\r\n");
  EXPECT_TRUE(header.has_addresses);
  EXPECT_EQ(header.source.ToString(), "[2001:db8::1]:0");
  EXPECT_EQ(header.destination.port(), 65535);
  EXPECT_EQ(header.destination.family(), AF_INET6);
}

TEST(ProxyProtocolTest, V1Unknown) {
  for (absl::string_view line :
       {"PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"}) {
    const ProxyHeader header = ParseComplete(line);
    EXPECT_EQ(header.length, line.size());
    EXPECT_FALSE(header.has_addresses);
  }
}

TEST(ProxyProtocolTest, V1LongestLineIsAccepted) {
  std::string line = "PROXY UNKNOWN ";
  line.append(kProxyV1MaxLength - 2 - line.size(), 'x');
  line += "\r\n";
  ASSERT_EQ(line.size(), kProxyV1MaxLength);
  EXPECT_EQ(ParseComplete(line).length, kProxyV1MaxLength);
}

TEST(ProxyProtocolTest, V1EveryPrefixNeedsMore) {
  const std::string line = "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n";
  for (size_t n = 0; n < line.size(); ++n) {
    EXPECT_TRUE(NeedsMore(line.substr(0, n))) << n;
  }
}

TEST(ProxyProtocolTest, V1NoCrlfWithin107Bytes) {
  std::string line = "PROXY UNKNOWN ";
  line.append(kProxyV1MaxLength - line.size() - 1, 'x');
  EXPECT_TRUE(NeedsMore(line));  // 106 bytes: the CRLF may still come
  line += "x";
  EXPECT_THAT(ErrorOf(line), HasSubstr("no CRLF within 107 bytes"));
  // A CR as the 107th byte with the LF beyond the bound.
  line.back() = '\r';
  EXPECT_THAT(ErrorOf(line + "\n"), HasSubstr("no CRLF"));
}

TEST(ProxyProtocolTest, V1BadLines) {
  struct Case {
    absl::string_view line;
    absl::string_view error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"PROXY TCP5 1.2.3.4 1.2.3.5 1 2\r\n", "not TCP4, TCP6 or UNKNOWN"},
           {"PROXY tcp4 1.2.3.4 1.2.3.5 1 2\r\n", "not TCP4"},
           {"PROXY \r\n", "not TCP4"},
           {"PROXY UNKNOWNX\r\n", "not TCP4"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1\r\n", "single spaces"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 2 3\r\n", "single spaces"},
           {"PROXY TCP4  1.2.3.4 1.2.3.5 1 2\r\n", "single spaces"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 2 \r\n", "single spaces"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1\t2\r\n", "single spaces"},
           {"PROXY TCP4 ::1 1.2.3.5 1 2\r\n", "source address"},
           {"PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "destination address"},
           {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "not an IPv6 address"},
           {"PROXY TCP6 fe80::1%1 ::1 1 2\r\n", "not an IPv6 address"},
           {"PROXY TCP4 1.2.3 1.2.3.5 1 2\r\n", "not an IPv4 address"},
           {"PROXY TCP4 01.2.3.4 1.2.3.5 1 2\r\n", "not an IPv4 address"},
           {"PROXY TCP4 1.2.3.256 1.2.3.5 1 2\r\n", "not an IPv4 address"},
           {"PROXY TCP4 localhost 1.2.3.5 1 2\r\n", "not an IPv4 address"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 65536 2\r\n", "source port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 99999\r\n", "destination port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 -1 2\r\n", "source port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 +1 2\r\n", "source port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 080 2\r\n", "source port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 http 2\r\n", "source port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 0x2\r\n", "destination port"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n", "LF without a CR"},
           {"PROXY TCP4 1.2.3.4 1.2.3.5 1 2\rX\n", "CR without LF"},
           {"PROXY UNKNOWN\n", "LF without a CR"},
       }) {
    EXPECT_THAT(ErrorOf(c.line), HasSubstr(c.error)) << c.line;
  }
}

TEST(ProxyProtocolTest, NotAHeader) {
  for (absl::string_view bytes : {
           "GET / HTTP/1.1\r\n",
           "proxy TCP4",
           "PROXX",
           "PROXYTCP4",
       }) {
    EXPECT_THAT(ErrorOf(bytes), HasSubstr("neither")) << bytes;
  }
  EXPECT_THAT(ErrorOf(std::string("\r\n\r\n\0\r\nQUIX", 12)),
              HasSubstr("neither"));
  EXPECT_THAT(ErrorOf(std::string("\x16\x03\x01\x02\x00", 5)),
              HasSubstr("neither"));  // a TLS ClientHello
}

TEST(ProxyProtocolTest, V2Inet) {
  const std::string header = V2(0x21, 0x11, V4Block());
  const ProxyHeader parsed = ParseComplete(header + "payload");
  EXPECT_EQ(parsed.version, 2);
  EXPECT_EQ(parsed.length, 28u);
  EXPECT_TRUE(parsed.has_addresses);
  EXPECT_EQ(parsed.source.ToString(), "192.0.2.1:56324");
  EXPECT_EQ(parsed.destination.ToString(), "192.0.2.2:443");
}

TEST(ProxyProtocolTest, V2Inet6) {
  const ProxyHeader parsed = ParseComplete(V2(0x21, 0x21, V6Block()));
  EXPECT_EQ(parsed.length, 52u);
  EXPECT_EQ(parsed.source.ToString(), "[2001:db8::1]:56324");
  EXPECT_EQ(parsed.destination.ToString(), "[2001:db8::2]:443");
}

TEST(ProxyProtocolTest, V2TlvsAreSkipped) {
  // ALPN "h2", an empty NOOP, a CRC32c: all skipped, the length honoured.
  const std::string tlvs = std::string("\x01\x00\x02h2", 5) +
                           std::string("\x04\x00\x00", 3) +
                           std::string("\x03\x00\x04\x01\x02\x03\x04", 7);
  const std::string header = V2(0x21, 0x11, V4Block() + tlvs);
  const ProxyHeader parsed = ParseComplete(header + "data");
  EXPECT_EQ(parsed.length, header.size());
  EXPECT_EQ(parsed.source.ToString(), "192.0.2.1:56324");
}

TEST(ProxyProtocolTest, V2LocalAndUnspecKeepTheSocketAddress) {
  // LOCAL: whatever family and body, ignored.
  for (const std::string& header :
       {V2(0x20, 0x00, ""), V2(0x20, 0x11, V4Block()), V2(0x20, 0x31, "x"),
        V2(0x21, 0x00, ""), V2(0x21, 0x00, "\x01\x02\x03")}) {
    const ProxyHeader parsed = ParseComplete(header + "z");
    EXPECT_EQ(parsed.length, header.size());
    EXPECT_FALSE(parsed.has_addresses);
  }
}

TEST(ProxyProtocolTest, V2EveryPrefixNeedsMore) {
  const std::string header =
      V2(0x21, 0x21, V6Block() + std::string("\x04\x00\x01z", 4));
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_TRUE(NeedsMore(header.substr(0, n))) << n;
  }
  EXPECT_EQ(ParseComplete(header).length, header.size());
}

TEST(ProxyProtocolTest, V2BadHeaders) {
  std::string bad_signature = V2(0x21, 0x11, V4Block());
  bad_signature[5] = 'X';
  EXPECT_THAT(ErrorOf(bad_signature), HasSubstr("neither"));
  EXPECT_THAT(ErrorOf(V2(0x11, 0x11, V4Block())), HasSubstr("version 1 is"));
  EXPECT_THAT(ErrorOf(V2(0x31, 0x11, V4Block())), HasSubstr("version 3"));
  EXPECT_THAT(ErrorOf(V2(0x22, 0x11, V4Block())), HasSubstr("command 2"));
  EXPECT_THAT(ErrorOf(V2(0x2F, 0x11, V4Block())), HasSubstr("command 15"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x31, std::string(216, 'a'))),
              HasSubstr("AF_UNIX"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x41, V4Block())), HasSubstr("family 4"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x12, V4Block())), HasSubstr("not STREAM"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x10, V4Block())), HasSubstr("not STREAM"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x11, V4Block().substr(0, 11))),
              HasSubstr("too short for IPv4"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x21, V4Block())),
              HasSubstr("too short for IPv6"));
  // TLVs that do not fit.
  EXPECT_THAT(ErrorOf(V2(0x21, 0x11, V4Block() + std::string("\x01\x00", 2))),
              HasSubstr("truncated"));
  EXPECT_THAT(ErrorOf(V2(0x21, 0x11,
                         V4Block() + std::string("\x01\x00\x05"
                                                 "abcd",
                                                 7))),
              HasSubstr("overruns"));
  // Errors are seen as soon as the bytes that show them arrive.
  EXPECT_FALSE(ParseProxyHeader(V2(0x11, 0x11, "").substr(0, 13)).ok());
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x31, "").substr(0, 16)).ok());
}

TEST(ProxyProtocolTest, V2OversizeIsRefusedBeforeItArrives) {
  const std::string at_limit =
      V2(0x21, 0x11,
         V4Block() + "\x04" + std::string("\x07\xE1", 2) +
             std::string(kProxyV2MaxLength - 16 - 12 - 3, 'n'));
  ASSERT_EQ(at_limit.size(), kProxyV2MaxLength);
  EXPECT_EQ(ParseComplete(at_limit).length, kProxyV2MaxLength);
  std::string over = V2(0x20, 0x00, std::string(kProxyV2MaxLength - 15, 'x'));
  EXPECT_THAT(ErrorOf(over.substr(0, 16)),
              HasSubstr(absl::StrCat("longer than the ", kProxyV2MaxLength)));
  EXPECT_THAT(ErrorOf(V2(0x20, 0x00, std::string(65535, 'x')).substr(0, 16)),
              HasSubstr("65551 bytes"));
}

TEST(ProxyProtocolTest, MatchProxyPrefix) {
  EXPECT_EQ(MatchProxyPrefix(""), ProxyPrefix::kMaybe);
  EXPECT_EQ(MatchProxyPrefix("PRO"), ProxyPrefix::kMaybe);
  EXPECT_EQ(MatchProxyPrefix("PROXY"), ProxyPrefix::kMaybe);
  EXPECT_EQ(MatchProxyPrefix("PROXY "), ProxyPrefix::kYes);
  EXPECT_EQ(MatchProxyPrefix("PROXY TCP4 ..."), ProxyPrefix::kYes);
  EXPECT_EQ(MatchProxyPrefix("PROXYX"), ProxyPrefix::kNo);
  EXPECT_EQ(MatchProxyPrefix("GET /"), ProxyPrefix::kNo);
  EXPECT_EQ(MatchProxyPrefix(kProxyV2Signature.substr(0, 5)),
            ProxyPrefix::kMaybe);
  EXPECT_EQ(MatchProxyPrefix(V2(0x21, 0x11, V4Block())), ProxyPrefix::kYes);
  EXPECT_EQ(MatchProxyPrefix(std::string("\r\n\r\n\0\r\nQUIT", 11)),
            ProxyPrefix::kMaybe);
  EXPECT_EQ(MatchProxyPrefix("\r\n\r\nX"), ProxyPrefix::kNo);
}

}  // namespace
}  // namespace tao
