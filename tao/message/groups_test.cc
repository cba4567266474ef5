// Tests of tao::ConnectionGroups over loopback (a group holds real
// connections): join and leave, members only receive a group broadcast,
// a closed connection leaves its groups (OnClose still sees them), joining
// a closed connection is refused, and many connections joining, leaving and
// closing while broadcasts run from other threads (TSan clean; every group
// empty at the end).
#include "tao/message/groups.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

// The protocol of these tests (raw payloads):
constexpr int32_t kJoin = 10;   // "room": join, answered kAck "joined"
constexpr int32_t kLeave = 11;  // "room": leave, answered kAck "left"
constexpr int32_t kSay = 12;    // "room|text": kHeard "text" to members,
                                // then kAck "<recipients>" to the sender
constexpr int32_t kHeard = 13;
constexpr int32_t kAck = 14;

absl::Status RegisterRooms(Registry& registry) {
  absl::Status s =
      registry.RegisterRaw(kJoin, [](Context& ctx, absl::string_view room) {
        const bool joined =
            ctx.endpoint().groups().Join(room, ctx.connection());
        (void)ctx.ReplyRaw(kAck, joined ? "joined" : "already");
      });
  if (!s.ok()) return s;
  s = registry.RegisterRaw(kLeave, [](Context& ctx, absl::string_view room) {
    const bool left =
        ctx.endpoint().groups().Leave(room, ctx.connection().id());
    (void)ctx.ReplyRaw(kAck, left ? "left" : "not a member");
  });
  if (!s.ok()) return s;
  return registry.RegisterRaw(kSay, [](Context& ctx, absl::string_view p) {
    std::pair<absl::string_view, absl::string_view> room_text =
        absl::StrSplit(p, absl::MaxSplits('|', 1));
    absl::StatusOr<size_t> sent = ctx.endpoint().BroadcastRawToGroup(
        room_text.first, kHeard, room_text.second);
    (void)ctx.ReplyRaw(kAck, sent.ok() ? absl::StrCat(*sent) : "error");
  });
}

// Reads one frame; "type:payload".
std::string ReadFrame(TestPeer& peer) {
  absl::StatusOr<std::string> header = peer.ReadExactly(8);
  if (!header.ok()) return header.status().ToString();
  const int32_t type = static_cast<int32_t>(
      static_cast<uint8_t>((*header)[0]) |
      static_cast<uint8_t>((*header)[1]) << 8 |
      static_cast<uint8_t>((*header)[2]) << 16 |
      static_cast<uint32_t>(static_cast<uint8_t>((*header)[3])) << 24);
  const uint32_t length =
      static_cast<uint8_t>((*header)[4]) |
      static_cast<uint8_t>((*header)[5]) << 8 |
      static_cast<uint8_t>((*header)[6]) << 16 |
      static_cast<uint32_t>(static_cast<uint8_t>((*header)[7])) << 24;
  absl::StatusOr<std::string> payload = peer.ReadExactly(length);
  if (!payload.ok()) return payload.status().ToString();
  return absl::StrCat(type, ":", *payload);
}

// Sends a frame and returns the next frame (the ack).
std::string Ask(TestPeer& peer, int32_t type, absl::string_view payload) {
  absl::Status wrote = peer.WriteAll(TlvFrame(type, payload));
  if (!wrote.ok()) return wrote.ToString();
  return ReadFrame(peer);
}

class GroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;  // one loop: events of all peers run in order
    options.handler_threads = 0;
    server_ = std::make_unique<MessageServer>(options);
    ASSERT_TRUE(RegisterRooms(server_->registry()).ok());
  }
  void Start(testing::Callbacks callbacks = {}) {
    ASSERT_TRUE(server_->Start(std::move(callbacks)).ok());
  }
  TestPeer Connect() {
    absl::StatusOr<TestPeer> peer = server_->Connect();
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }
  ConnectionGroups& groups() { return server_->server().groups(); }

  std::unique_ptr<MessageServer> server_;
};

TEST_F(GroupsTest, MembersOnlyHearTheirGroup) {
  Start();
  TestPeer a = Connect(), b = Connect(), c = Connect();
  EXPECT_EQ(Ask(a, kJoin, "x"), "14:joined");
  EXPECT_EQ(Ask(a, kJoin, "x"), "14:already");
  EXPECT_EQ(Ask(b, kJoin, "x"), "14:joined");
  EXPECT_EQ(Ask(c, kJoin, "y"), "14:joined");
  EXPECT_EQ(groups().size("x"), 2u);
  EXPECT_EQ(groups().group_count(), 2u);

  ASSERT_TRUE(a.WriteAll(TlvFrame(kSay, "x|hello x")).ok());
  EXPECT_EQ(ReadFrame(a), "13:hello x");  // the sender is a member too
  EXPECT_EQ(ReadFrame(a), "14:2");
  EXPECT_EQ(ReadFrame(b), "13:hello x");
  EXPECT_EQ(Ask(c, kSay, "y|only c"), "13:only c");  // c never heard x
  EXPECT_EQ(ReadFrame(c), "14:1");

  EXPECT_EQ(Ask(b, kLeave, "x"), "14:left");
  EXPECT_EQ(Ask(b, kLeave, "x"), "14:not a member");
  ASSERT_TRUE(a.WriteAll(TlvFrame(kSay, "x|after b left")).ok());
  EXPECT_EQ(ReadFrame(a), "13:after b left");
  EXPECT_EQ(ReadFrame(a), "14:1");
  EXPECT_EQ(Ask(b, kSay, "nobody|hello?"), "14:0");  // an unknown group
}

TEST_F(GroupsTest, AClosedConnectionLeavesEveryGroupAfterOnClose) {
  absl::Mutex mu;
  std::vector<std::string> groups_at_close;
  Start({.on_close = [&](Connection& connection) {
    absl::MutexLock lock(&mu);
    if (!groups_at_close.empty()) return;  // only the first close (a's)
    groups_at_close = groups().GroupsOf(connection.id());
  }});
  TestPeer a = Connect(), b = Connect();
  EXPECT_EQ(Ask(a, kJoin, "x"), "14:joined");
  EXPECT_EQ(Ask(a, kJoin, "y"), "14:joined");
  EXPECT_EQ(Ask(b, kJoin, "x"), "14:joined");
  a.Close();
  ASSERT_TRUE(server_->tracker().WaitForCloses(1));
  // One loop: b's request runs after a's close finished.
  EXPECT_EQ(Ask(b, kSay, "x|still here"), "13:still here");
  EXPECT_EQ(ReadFrame(b), "14:1");
  EXPECT_EQ(groups().size("y"), 0u);
  EXPECT_EQ(groups().group_count(), 1u);
  b.Close();
  server_->Stop();  // before the callback's captures go
  absl::MutexLock lock(&mu);
  EXPECT_EQ(groups_at_close, (std::vector<std::string>{"x", "y"}));
}

TEST_F(GroupsTest, JoiningAClosedConnectionIsRefused) {
  Start();
  TestPeer a = Connect();
  ConnectionPtr connection = server_->tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  a.Close();
  ASSERT_TRUE(server_->tracker().WaitForCloses(1));
  EXPECT_FALSE(groups().Join("x", *connection));
  EXPECT_EQ(groups().group_count(), 0u);
}

TEST_F(GroupsTest, ChurnWhileBroadcastingFromOtherThreads) {
  constexpr int kPeers = 32;
  constexpr int kRounds = 12;
  Start();
  std::vector<TestPeer> peers;
  for (int i = 0; i < kPeers; ++i) peers.push_back(Connect());
  std::atomic<bool> done{false};
  std::atomic<size_t> delivered{0};
  std::vector<std::thread> broadcasters;
  for (int t = 0; t < 2; ++t) {
    broadcasters.emplace_back([&, t] {
      const std::string room = t == 0 ? "a" : "b";
      // Bounded, so that peers that stop reading hold little output, and
      // yielding, so that two spinning threads do not starve the loop on a
      // small (or sanitized) machine.
      int broadcasts = 0;
      while (!done.load() && broadcasts < 2000) {
        absl::StatusOr<size_t> sent =
            server_->server().BroadcastRawToGroup(room, kHeard, "news");
        if (sent.ok() && *sent > 0) {
          delivered += *sent;
          ++broadcasts;
        }
        (void)groups().Members(room);
        (void)groups().GroupsOf(1);
        std::this_thread::yield();
      }
    });
  }
  // Each peer joins and leaves rooms; replies interleave with the news, so
  // read until each ack.
  auto until_ack = [](TestPeer& peer) {
    for (;;) {
      std::string frame = ReadFrame(peer);
      if (frame != "13:news") return frame;  // the ack, or an error
    }
  };
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPeers; ++i) {
      const char* room = (i + round) % 2 == 0 ? "a" : "b";
      ASSERT_TRUE(peers[i]
                      .WriteAll(TlvFrame(round % 2 == 0 ? kJoin : kLeave, room))
                      .ok());
    }
    for (int i = 0; i < kPeers; ++i) {
      const std::string ack = until_ack(peers[i]);
      ASSERT_EQ(ack.rfind("14:", 0), 0u) << ack;
    }
  }
  // Half of them close while (about to be) in rooms.
  for (int i = 0; i < kPeers; i += 2) {
    ASSERT_TRUE(peers[i].WriteAll(TlvFrame(kJoin, "a")).ok());
    peers[i].Close();
  }
  ASSERT_TRUE(server_->tracker().WaitForCloses(kPeers / 2));
  done = true;
  for (std::thread& t : broadcasters) t.join();
  EXPECT_GT(delivered.load(), 0u);
  for (TestPeer& peer : peers) peer.Close();
  server_->Stop();
  EXPECT_EQ(groups().group_count(), 0u);
}

}  // namespace
}  // namespace tao
