#include "tao/cluster/channels.h"

#include <string>

#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(ChannelsTest, NamesAllAndGroupChannels) {
  EXPECT_EQ(AllChannel("tao"), "tao:all");
  EXPECT_EQ(GroupChannel("tao", "lobby"), "tao:group:lobby");
  EXPECT_EQ(GroupPattern("tao"), "tao:group:*");
}

TEST(ChannelsTest, ParsesItsOwnChannels) {
  absl::StatusOr<ChannelTarget> all = ParseChannel("tao", "tao:all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all);
  // The group points into the channel, which must outlive it.
  const std::string channel = GroupChannel("tao", "a:b*c");
  absl::StatusOr<ChannelTarget> group = ParseChannel("tao", channel);
  ASSERT_TRUE(group.ok());
  EXPECT_FALSE(group->all);
  EXPECT_EQ(group->group, "a:b*c");
  // The empty group name is a name like any other.
  EXPECT_TRUE(ParseChannel("tao", "tao:group:").ok());
}

TEST(ChannelsTest, RejectsOtherPrefixesAndShapes) {
  EXPECT_FALSE(ParseChannel("tao", "other:all").ok());
  EXPECT_FALSE(ParseChannel("tao", "taox:all").ok());
  EXPECT_FALSE(ParseChannel("tao", "tao:alls").ok());
  EXPECT_FALSE(ParseChannel("tao", "tao:grou:x").ok());
  EXPECT_FALSE(ParseChannel("tao", "").ok());
}

TEST(ChannelsTest, PrefixesWithoutGlobCharacters) {
  EXPECT_TRUE(ValidateChannelPrefix("tao").ok());
  EXPECT_TRUE(ValidateChannelPrefix("chat:eu-1").ok());
  EXPECT_FALSE(ValidateChannelPrefix("").ok());
  for (const char* bad : {"t*", "t?", "t[1]", "t\\"}) {
    EXPECT_FALSE(ValidateChannelPrefix(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tao
