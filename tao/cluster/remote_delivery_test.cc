#include "tao/cluster/remote_delivery.h"

#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"
#include "tao/cluster/channels.h"
#include "tao/cluster/payload.h"
#include "tao/testing/detached_connection.h"

namespace tao {
namespace {

constexpr uint64_t kSelf = 42;
constexpr uint64_t kOther = 43;

// An endpoint that records the frames it is asked to queue.
class RecordingEndpoint final : public Endpoint {
 public:
  ConnectionPtr Find(uint64_t) const override { return nullptr; }
  void ForEach(
      const std::function<void(const ConnectionPtr&)>&) const override {}
  size_t connection_count() const override { return connections; }
  const Codec& codec() const override { return TlvCodec::Default(); }
  size_t BroadcastFrame(const absl::Cord& frame) const override {
    broadcasts.push_back(std::string(frame));
    return connections;
  }
  size_t MulticastFrame(const std::vector<ConnectionPtr>& members,
                        const absl::Cord& frame) const override {
    multicasts.push_back(std::string(frame));
    return members.size();
  }

  size_t connections = 3;
  mutable std::vector<std::string> broadcasts;
  mutable std::vector<std::string> multicasts;
};

std::string Frame(absl::string_view payload) {
  std::string frame;
  EXPECT_TRUE(TlvCodec::Default().AppendFrame(101, payload, &frame).ok());
  return frame;
}

class RemoteDeliveryTest : public ::testing::Test {
 protected:
  RemoteDelivery::Result Deliver(absl::string_view channel,
                                 absl::string_view payload) {
    return delivery_.Deliver(channel, payload);
  }

  RecordingEndpoint endpoint_;
  RemoteDelivery delivery_{endpoint_, kSelf, "tao"};
};

TEST_F(RemoteDeliveryTest, BroadcastsTheFrameBytesUnchanged) {
  const std::string frame = Frame("hello");
  RemoteDelivery::Result r =
      Deliver("tao:all", EncodeClusterPayload(kOther, absl::Cord(frame)));
  EXPECT_EQ(r.outcome, RemoteDelivery::Outcome::kDelivered);
  EXPECT_EQ(r.recipients, 3u);
  ASSERT_EQ(endpoint_.broadcasts.size(), 1u);
  EXPECT_EQ(endpoint_.broadcasts[0], frame);
}

TEST_F(RemoteDeliveryTest, MulticastsToTheGroupsLocalMembers) {
  testing::DetachedConnection member;
  ASSERT_TRUE(member.ok());
  endpoint_.groups().Join("room", member.connection());
  const std::string frame = Frame("to the room");
  RemoteDelivery::Result r =
      Deliver(GroupChannel("tao", "room"),
              EncodeClusterPayload(kOther, absl::Cord(frame)));
  EXPECT_EQ(r.outcome, RemoteDelivery::Outcome::kDelivered);
  EXPECT_EQ(r.recipients, 1u);
  ASSERT_EQ(endpoint_.multicasts.size(), 1u);
  EXPECT_EQ(endpoint_.multicasts[0], frame);
}

TEST_F(RemoteDeliveryTest, AGroupWithoutLocalMembersGetsNothing) {
  RemoteDelivery::Result r =
      Deliver(GroupChannel("tao", "empty"),
              EncodeClusterPayload(kOther, absl::Cord(Frame("x"))));
  EXPECT_EQ(r.outcome, RemoteDelivery::Outcome::kDelivered);
  EXPECT_EQ(r.recipients, 0u);
  EXPECT_TRUE(endpoint_.multicasts.empty());
}

TEST_F(RemoteDeliveryTest, IgnoresItsOwnEcho) {
  RemoteDelivery::Result r =
      Deliver("tao:all", EncodeClusterPayload(kSelf, absl::Cord(Frame("x"))));
  EXPECT_EQ(r.outcome, RemoteDelivery::Outcome::kOwnEcho);
  EXPECT_TRUE(endpoint_.broadcasts.empty());
}

TEST_F(RemoteDeliveryTest, IgnoresBadInputFromRedis) {
  const std::string frame = Frame("payload");
  struct Case {
    const char* what;
    std::string channel;
    std::string payload;
    RemoteDelivery::Outcome outcome;
  };
  std::string wrong_version = EncodeClusterPayload(kOther, absl::Cord(frame));
  wrong_version[0] = 9;
  const std::vector<Case> cases = {
      {"foreign channel", "other:all",
       EncodeClusterPayload(kOther, absl::Cord(frame)),
       RemoteDelivery::Outcome::kBadChannel},
      {"empty payload", "tao:all", "", RemoteDelivery::Outcome::kBadPayload},
      {"text payload", "tao:all", "hello, world",
       RemoteDelivery::Outcome::kBadPayload},
      {"wrong version", "tao:all", wrong_version,
       RemoteDelivery::Outcome::kBadPayload},
      {"truncated frame", "tao:all",
       EncodeClusterPayload(kOther, absl::Cord(frame.substr(0, 10))),
       RemoteDelivery::Outcome::kBadFrame},
      {"two frames", "tao:all",
       EncodeClusterPayload(kOther, absl::Cord(frame + frame)),
       RemoteDelivery::Outcome::kBadFrame},
      {"oversized length", "tao:all",
       EncodeClusterPayload(kOther,
                            absl::Cord(std::string("\x65\0\0\0\xff\xff\xff\x7f"
                                                   "abc",
                                                   11))),
       RemoteDelivery::Outcome::kBadFrame},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Deliver(c.channel, c.payload).outcome, c.outcome) << c.what;
  }
  EXPECT_TRUE(endpoint_.broadcasts.empty());
  EXPECT_TRUE(endpoint_.multicasts.empty());
}

}  // namespace
}  // namespace tao
