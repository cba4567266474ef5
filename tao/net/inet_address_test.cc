#include "tao/net/inet_address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstddef>
#include <cstring>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash_testing.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;

InetAddress MustParse(absl::string_view text) {
  absl::StatusOr<InetAddress> addr = InetAddress::Parse(text);
  EXPECT_TRUE(addr.ok()) << text << ": " << addr.status();
  return addr.ok() ? *addr : InetAddress();
}

TEST(InetAddressTest, DefaultIsUnspecified) {
  InetAddress addr;
  EXPECT_EQ(addr.family(), AF_UNSPEC);
  EXPECT_FALSE(addr.is_ip());
  EXPECT_EQ(addr.port(), 0);
  EXPECT_EQ(addr.host(), "");
  EXPECT_EQ(addr.ToString(), "<unspecified>");
  EXPECT_EQ(addr.socklen(), 0u);
  EXPECT_EQ(addr, InetAddress());
}

TEST(InetAddressTest, ParsesIpv4) {
  InetAddress addr = MustParse("1.2.3.4:80");
  EXPECT_EQ(addr.family(), AF_INET);
  EXPECT_TRUE(addr.is_ip());
  EXPECT_EQ(addr.port(), 80);
  EXPECT_EQ(addr.host(), "1.2.3.4");
  EXPECT_EQ(addr.ToString(), "1.2.3.4:80");
  ASSERT_EQ(addr.socklen(), sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(addr.sockaddr());
  EXPECT_EQ(in->sin_family, AF_INET);
  EXPECT_EQ(ntohs(in->sin_port), 80);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), 0x01020304u);
}

TEST(InetAddressTest, ParsesIpv4PortBounds) {
  EXPECT_EQ(MustParse("10.0.0.1:0").port(), 0);
  EXPECT_EQ(MustParse("10.0.0.1:65535").port(), 65535);
  EXPECT_EQ(MustParse("10.0.0.1:00080").port(), 80);
}

TEST(InetAddressTest, ParsesLocalhostAsIpv4Loopback) {
  EXPECT_EQ(MustParse("localhost:80"), InetAddress::Loopback(80));
  EXPECT_EQ(MustParse("LocalHost:80"), InetAddress::Loopback(80));
  EXPECT_EQ(MustParse("localhost:80").ToString(), "127.0.0.1:80");
}

TEST(InetAddressTest, ParsesIpv4AnyForms) {
  for (absl::string_view text : {":80", "*:80", "0.0.0.0:80"}) {
    InetAddress addr = MustParse(text);
    EXPECT_EQ(addr, InetAddress::Any(80)) << text;
    EXPECT_EQ(addr.ToString(), "0.0.0.0:80") << text;
  }
}

TEST(InetAddressTest, ParsesIpv6) {
  InetAddress addr = MustParse("[::1]:80");
  EXPECT_EQ(addr.family(), AF_INET6);
  EXPECT_TRUE(addr.is_ip());
  EXPECT_EQ(addr.port(), 80);
  EXPECT_EQ(addr.host(), "::1");
  EXPECT_EQ(addr.ToString(), "[::1]:80");
  EXPECT_EQ(addr.socklen(), sizeof(sockaddr_in6));
  EXPECT_EQ(addr, InetAddress::Loopback(80, /*ipv6=*/true));

  EXPECT_EQ(MustParse("[::]:443"), InetAddress::Any(443, /*ipv6=*/true));
  EXPECT_EQ(MustParse("[::]:443").ToString(), "[::]:443");
  EXPECT_EQ(MustParse("[2001:DB8::A:1]:1").ToString(), "[2001:db8::a:1]:1");
  EXPECT_EQ(MustParse("[::ffff:1.2.3.4]:5").ToString(), "[::ffff:1.2.3.4]:5");
}

TEST(InetAddressTest, ParsesIpv6ScopeIdByNumberAndName) {
  InetAddress addr = MustParse("[fe80::1%7]:80");
  EXPECT_EQ(addr.host(), "fe80::1%7");
  EXPECT_EQ(addr.ToString(), "[fe80::1%7]:80");
  EXPECT_EQ(
      reinterpret_cast<const sockaddr_in6*>(addr.sockaddr())->sin6_scope_id,
      7u);
  EXPECT_NE(addr, MustParse("[fe80::1]:80"));

  const unsigned lo = if_nametoindex("lo");
  if (lo != 0) {
    EXPECT_EQ(MustParse("[fe80::1%lo]:80").host(),
              absl::StrCat("fe80::1%", lo));
  }
}

TEST(InetAddressTest, ParsesUnixPath) {
  InetAddress addr = MustParse("unix:/tmp/tao.sock");
  EXPECT_EQ(addr.family(), AF_UNIX);
  EXPECT_FALSE(addr.is_ip());
  EXPECT_EQ(addr.port(), 0);
  EXPECT_EQ(addr.host(), "/tmp/tao.sock");
  EXPECT_EQ(addr.ToString(), "unix:/tmp/tao.sock");
  const auto* un = reinterpret_cast<const sockaddr_un*>(addr.sockaddr());
  EXPECT_STREQ(un->sun_path, "/tmp/tao.sock");
  EXPECT_EQ(addr.socklen(),
            offsetof(sockaddr_un, sun_path) + strlen("/tmp/tao.sock") + 1);

  EXPECT_EQ(MustParse("unix:relative.sock").host(), "relative.sock");
}

TEST(InetAddressTest, ParsesUnixAbstractName) {
  InetAddress addr = MustParse("unix:@tao-test");
  EXPECT_EQ(addr.family(), AF_UNIX);
  EXPECT_EQ(addr.host(), "@tao-test");
  EXPECT_EQ(addr.ToString(), "unix:@tao-test");
  const auto* un = reinterpret_cast<const sockaddr_un*>(addr.sockaddr());
  EXPECT_EQ(un->sun_path[0], '\0');
  EXPECT_EQ(std::string(un->sun_path + 1, 8), "tao-test");
  EXPECT_EQ(addr.socklen(), offsetof(sockaddr_un, sun_path) + 1 + 8);
  EXPECT_NE(addr, MustParse("unix:tao-test"));
  EXPECT_NE(addr, MustParse("unix:@tao-test2"));
}

TEST(InetAddressTest, LongestUnixPathsFit) {
  const std::string path(107, 'p');
  EXPECT_EQ(MustParse("unix:" + path).host(), path);
  EXPECT_EQ(MustParse("unix:@" + path).host(), "@" + path);
}

TEST(InetAddressTest, ToStringRoundTripsThroughParse) {
  for (absl::string_view text :
       {"1.2.3.4:80", "127.0.0.1:0", "0.0.0.0:65535", "[::1]:80", "[::]:0",
        "[fe80::1%3]:9", "[2001:db8::1]:8080", "unix:/a/b.sock", "unix:x",
        "unix:@name"}) {
    InetAddress addr = MustParse(text);
    EXPECT_EQ(addr.ToString(), text);
    EXPECT_EQ(MustParse(addr.ToString()), addr) << text;
  }
}

TEST(InetAddressTest, LoopbackAndAny) {
  EXPECT_EQ(InetAddress::Loopback(8080).ToString(), "127.0.0.1:8080");
  EXPECT_EQ(InetAddress::Loopback(8080, true).ToString(), "[::1]:8080");
  EXPECT_EQ(InetAddress::Any(1).ToString(), "0.0.0.0:1");
  EXPECT_EQ(InetAddress::Any(1, true).ToString(), "[::]:1");
  EXPECT_EQ(InetAddress::Loopback(0).family(), AF_INET);
  EXPECT_EQ(InetAddress::Any(0, true).family(), AF_INET6);
}

void ExpectParseError(absl::string_view text, absl::string_view reason) {
  absl::StatusOr<InetAddress> addr = InetAddress::Parse(text);
  ASSERT_FALSE(addr.ok()) << text << " parsed as " << *addr;
  EXPECT_TRUE(absl::IsInvalidArgument(addr.status())) << addr.status();
  EXPECT_THAT(std::string(addr.status().message()), HasSubstr(reason)) << text;
  EXPECT_THAT(std::string(addr.status().message()),
              HasSubstr(absl::StrCat("\"", text, "\"")))
      << "names the input";
}

TEST(InetAddressTest, ParseErrors) {
  ExpectParseError("", "empty string");
  ExpectParseError("1.2.3.4", "missing port");
  ExpectParseError("1.2.3.4:", "missing port");
  ExpectParseError("1.2.3.4:65536", "bad port");
  ExpectParseError("1.2.3.4:-1", "bad port");
  ExpectParseError("1.2.3.4:+80", "bad port");
  ExpectParseError("1.2.3.4: 80", "bad port");
  ExpectParseError("1.2.3.4:80x", "bad port");
  ExpectParseError("1.2.3.4:100000", "bad port");
  ExpectParseError("1.2.3:80", "bad IPv4 address");
  ExpectParseError("256.1.1.1:80", "bad IPv4 address");
  ExpectParseError("example.com:80", "host names are not resolved");
  ExpectParseError("my-host:80", "host names are not resolved");
  ExpectParseError("::1:80", "IPv6 addresses need brackets");
  ExpectParseError("[::1:80", "missing ']'");
  ExpectParseError("[::1]", "missing port");
  ExpectParseError("[::1]80", "expected ':'");
  ExpectParseError("[::1]:", "missing port");
  ExpectParseError("[::1]:99999", "bad port");
  ExpectParseError("[]:80", "bad IPv6 address");
  ExpectParseError("[1.2.3.4]:80", "bad IPv6 address");
  ExpectParseError("[::g]:80", "bad IPv6 address");
  ExpectParseError("[fe80::1%no-such-if0]:80", "unknown network interface");
  ExpectParseError("[fe80::1%99999999999]:80", "bad IPv6 scope id");
  ExpectParseError("1.2.3.4]:80", "unbalanced brackets");
  ExpectParseError("unix:", "empty Unix socket path");
  ExpectParseError("unix:@", "empty abstract socket name");
  ExpectParseError("unix:/" + std::string(107, 'p'),
                   "path too long for sun_path");
  ExpectParseError("unix:@" + std::string(108, 'p'),
                   "abstract socket name too long");
}

TEST(InetAddressTest, ParseErrorEscapesNulBytes) {
  absl::StatusOr<InetAddress> addr =
      InetAddress::Parse(absl::string_view("unix:/a\0b", 9));
  ASSERT_FALSE(addr.ok());
  EXPECT_THAT(std::string(addr.status().message()), HasSubstr("NUL byte"));
  EXPECT_THAT(std::string(addr.status().message()), HasSubstr("\\000"));
}

TEST(InetAddressTest, FromSockaddrIpv4AndIpv6) {
  InetAddress v4 = MustParse("10.1.2.3:4567");
  absl::StatusOr<InetAddress> copy =
      InetAddress::FromSockaddr(v4.sockaddr(), v4.socklen());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*copy, v4);
  EXPECT_EQ(copy->ToString(), "10.1.2.3:4567");

  InetAddress v6 = MustParse("[::1]:9");
  copy = InetAddress::FromSockaddr(v6.sockaddr(), v6.socklen());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*copy, v6);
}

TEST(InetAddressTest, FromSockaddrUnixCanonicalizesPathLength) {
  sockaddr_un un;
  std::memset(&un, 'x', sizeof(un));  // garbage after the NUL
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/run/a.sock");
  absl::StatusOr<InetAddress> addr = InetAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&un), sizeof(un));
  ASSERT_TRUE(addr.ok()) << addr.status();
  EXPECT_EQ(addr->host(), "/run/a.sock");
  EXPECT_EQ(*addr, MustParse("unix:/run/a.sock"));
  EXPECT_EQ(absl::Hash<InetAddress>()(*addr),
            absl::Hash<InetAddress>()(MustParse("unix:/run/a.sock")));

  // Without the trailing NUL counted, as some kernels report it.
  addr = InetAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&un),
      offsetof(sockaddr_un, sun_path) + strlen("/run/a.sock"));
  ASSERT_TRUE(addr.ok()) << addr.status();
  EXPECT_EQ(*addr, MustParse("unix:/run/a.sock"));
}

TEST(InetAddressTest, FromSockaddrUnnamedUnix) {
  sockaddr_un un;
  std::memset(&un, 0, sizeof(un));
  un.sun_family = AF_UNIX;
  absl::StatusOr<InetAddress> addr = InetAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&un), sizeof(sa_family_t));
  ASSERT_TRUE(addr.ok()) << addr.status();
  EXPECT_EQ(addr->family(), AF_UNIX);
  EXPECT_EQ(addr->host(), "");
  EXPECT_EQ(addr->ToString(), "unix:");
}

TEST(InetAddressTest, FromSockaddrErrors) {
  InetAddress v4 = MustParse("10.1.2.3:4567");
  EXPECT_TRUE(absl::IsInvalidArgument(
      InetAddress::FromSockaddr(nullptr, sizeof(sockaddr_in)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      InetAddress::FromSockaddr(v4.sockaddr(), 1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      InetAddress::FromSockaddr(v4.sockaddr(), sizeof(sockaddr_in) - 1)
          .status()));
  InetAddress v6 = MustParse("[::1]:9");
  EXPECT_TRUE(absl::IsInvalidArgument(
      InetAddress::FromSockaddr(v6.sockaddr(), sizeof(sockaddr_in)).status()));
  sockaddr_storage other;
  std::memset(&other, 0, sizeof(other));
  other.ss_family = AF_PACKET;
  absl::StatusOr<InetAddress> addr = InetAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&other), sizeof(other));
  ASSERT_FALSE(addr.ok());
  EXPECT_THAT(std::string(addr.status().message()),
              HasSubstr("unsupported address family"));
}

TEST(InetAddressTest, MutableSockaddrFillsLikeTheKernel) {
  InetAddress source = MustParse("[2001:db8::5]:77");
  InetAddress addr = MustParse("1.1.1.1:1");
  socklen_t len = InetAddress::capacity();
  EXPECT_EQ(len, sizeof(sockaddr_storage));
  std::memcpy(addr.mutable_sockaddr(), source.sockaddr(), source.socklen());
  len = source.socklen();
  addr.set_socklen(len);
  EXPECT_EQ(addr, source);
  EXPECT_EQ(addr.ToString(), "[2001:db8::5]:77");
}

TEST(InetAddressTest, EqualityConsidersFamilyAddressAndPort) {
  EXPECT_EQ(MustParse("1.2.3.4:80"), MustParse("1.2.3.4:80"));
  EXPECT_NE(MustParse("1.2.3.4:80"), MustParse("1.2.3.4:81"));
  EXPECT_NE(MustParse("1.2.3.4:80"), MustParse("1.2.3.5:80"));
  EXPECT_NE(MustParse("0.0.0.0:80"), MustParse("[::]:80"));
  EXPECT_NE(MustParse("unix:/a"), MustParse("unix:/b"));
  EXPECT_NE(MustParse("unix:/a"), InetAddress());
}

TEST(InetAddressTest, IsCopyable) {
  InetAddress a = MustParse("unix:@copy");
  InetAddress b = a;
  InetAddress c;
  c = b;
  EXPECT_EQ(c, a);
  EXPECT_EQ(c.ToString(), "unix:@copy");
}

TEST(InetAddressTest, HashIsConsistentWithEquality) {
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      InetAddress(),
      MustParse("1.2.3.4:80"),
      MustParse("1.2.3.4:81"),
      MustParse("4.3.2.1:80"),
      MustParse("[::1]:80"),
      MustParse("[::1]:81"),
      MustParse("[fe80::1%2]:80"),
      MustParse("[fe80::1]:80"),
      MustParse("unix:/a"),
      MustParse("unix:/b"),
      MustParse("unix:@a"),
  }));
}

TEST(InetAddressTest, KeysAFlatHashMap) {
  absl::flat_hash_map<InetAddress, int> map;
  map[MustParse("127.0.0.1:1")] = 1;
  map[MustParse("[::1]:1")] = 2;
  map[MustParse("unix:@x")] = 3;
  map[InetAddress::Loopback(1)] += 10;
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map[MustParse("localhost:1")], 11);
  EXPECT_EQ(map[InetAddress::Loopback(1, true)], 2);
}

TEST(InetAddressTest, StreamsAsToString) {
  std::ostringstream os;
  os << MustParse("[::1]:5");
  EXPECT_EQ(os.str(), "[::1]:5");
}

}  // namespace
}  // namespace tao
