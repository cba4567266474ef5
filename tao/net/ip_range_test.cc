#include "tao/net/ip_range.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/net/inet_address.h"

namespace tao {
namespace {

using ::testing::HasSubstr;

InetAddress Address(const char* text) {
  absl::StatusOr<InetAddress> address = InetAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.ok() ? *address : InetAddress();
}

IpRange Range(const char* text) {
  absl::StatusOr<IpRange> range = IpRange::Parse(text);
  EXPECT_TRUE(range.ok()) << range.status();
  return range.ok() ? *range : *IpRange::Parse("0.0.0.0/32");
}

TEST(IpRangeTest, SingleAddresses) {
  EXPECT_TRUE(Range("127.0.0.1").Contains(Address("127.0.0.1:80")));
  EXPECT_FALSE(Range("127.0.0.1").Contains(Address("127.0.0.2:80")));
  EXPECT_TRUE(Range("::1").Contains(Address("[::1]:80")));
  EXPECT_FALSE(Range("::1").Contains(Address("127.0.0.1:80")));
  EXPECT_EQ(Range("127.0.0.1").ToString(), "127.0.0.1/32");
  EXPECT_EQ(Range("::1").ToString(), "::1/128");
}

TEST(IpRangeTest, Networks) {
  const IpRange ten = Range("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains(Address("10.255.1.2:1")));
  EXPECT_FALSE(ten.Contains(Address("11.0.0.0:1")));
  const IpRange odd = Range("192.168.4.0/22");
  EXPECT_TRUE(odd.Contains(Address("192.168.7.255:1")));
  EXPECT_FALSE(odd.Contains(Address("192.168.8.0:1")));
  EXPECT_TRUE(Range("0.0.0.0/0").Contains(Address("1.2.3.4:1")));
  EXPECT_FALSE(Range("0.0.0.0/0").Contains(Address("[::1]:1")));
  const IpRange doc = Range("2001:db8::/32");
  EXPECT_TRUE(doc.Contains(Address("[2001:db8:1::5]:1")));
  EXPECT_FALSE(doc.Contains(Address("[2001:db9::]:1")));
  EXPECT_FALSE(doc.Contains(Address("unix:/tmp/x")));
  EXPECT_FALSE(doc.Contains(InetAddress()));
}

TEST(IpRangeTest, MappedIpv4MatchesIpv4Ranges) {
  EXPECT_TRUE(Range("10.0.0.0/8").Contains(Address("[::ffff:10.1.2.3]:1")));
  EXPECT_FALSE(Range("10.0.0.0/8").Contains(Address("[::ffff:11.1.2.3]:1")));
  EXPECT_TRUE(Range("::ffff:0:0/96").Contains(Address("[::ffff:1.2.3.4]:1")));
}

TEST(IpRangeTest, BadText) {
  for (const char* text :
       {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
        "10.0.0.0/+8", "10.0.0.0/8x", "::/129", "10.0.0.1/8", "1.2.3.4:80",
        "[::1]", "10.0.0.0/0008"}) {
    absl::StatusOr<IpRange> range = IpRange::Parse(text);
    EXPECT_FALSE(range.ok()) << text;
    EXPECT_THAT(range.status().message(), HasSubstr(text));
  }
  absl::StatusOr<std::vector<IpRange>> list =
      IpRange::ParseList({"127.0.0.1", "nope"});
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.status().message(), HasSubstr("[1]: IP range \"nope\""));
  EXPECT_TRUE(IpRange::AnyContains(*IpRange::ParseList({"::1", "127.0.0.1"}),
                                   Address("127.0.0.1:5")));
}

}  // namespace
}  // namespace tao
