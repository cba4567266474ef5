#include "tao/net/compact_address.h"

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tao/net/inet_address.h"

namespace tao {
namespace {

TEST(CompactAddressTest, EveryFamilyComesBackEqual) {
  for (const std::string text :
       {"127.0.0.1:80", "10.1.2.3:0", "[::1]:443", "[fe80::1%1]:8080",
        "unix:/tmp/tao.sock", "unix:@abstract"}) {
    absl::StatusOr<InetAddress> address = InetAddress::Parse(text);
    ASSERT_TRUE(address.ok()) << text << ": " << address.status();
    const CompactAddress compact(*address);
    const InetAddress again = compact.Get();
    EXPECT_EQ(again, *address) << text;
    EXPECT_EQ(again.ToString(), address->ToString()) << text;
    EXPECT_EQ(again.socklen(), address->socklen()) << text;
  }
}

TEST(CompactAddressTest, UnspecifiedStaysUnspecified) {
  const CompactAddress compact{InetAddress()};
  EXPECT_EQ(compact.Get(), InetAddress());
  EXPECT_EQ(compact.Get().ToString(), "<unspecified>");
}

TEST(CompactAddressTest, IsSmallForTcp) {
  EXPECT_LE(sizeof(CompactAddress), 40u);
  EXPECT_GT(sizeof(InetAddress), sizeof(CompactAddress));
}

}  // namespace
}  // namespace tao
