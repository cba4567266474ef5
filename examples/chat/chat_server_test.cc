// The chat server under a hostile peer (issue 12): 100,000 frames of a type
// it does not know, 800 KB on one connection, each one an OnError. They are
// counted in the server's stats; its log gets a few lines, not 100,000.
// And Go tao's chat clients (type 1, raw text) in one room with tao's.
#include "examples/chat/chat_server.h"

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/chat/chat.pb.h"
#include "gtest/gtest.h"
#include "tao/tao.h"
#include "tao/testing/log_capture.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace chat {
namespace {

using ::tao::testing::LogCapture;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

std::string ChatFrame(absl::string_view text,
                      absl::string_view from = "mallory") {
  ChatMessage message;
  message.set_from(std::string(from));
  message.set_text(std::string(text));
  return TlvFrame(101, message.SerializeAsString());
}

TEST(ChatServerTest, AFloodOfUnknownFramesLogsAFewLines) {
  constexpr size_t kFrames = 100'000;
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 1;
  ChatServer server(options);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  LogCapture log;  // frozen log clock: one rate-limit window
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server.address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  std::string flood;
  for (size_t i = 0; i < kFrames; ++i) flood += TlvFrame(99, "");
  // The chat line after the flood comes back (a broadcast reaches its
  // sender too) once every frame before it was handled.
  ASSERT_TRUE(peer->WriteAll(flood + ChatFrame("hi")).ok());
  absl::StatusOr<std::string> echoed =
      peer->ReadExactly(ChatFrame("hi").size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, ChatFrame("hi"));
  EXPECT_EQ(server.server().stats().unknown_types, kFrames);
  // "joined", then at most a burst of "unknown message type 99".
  const size_t lines = log.lines();
  const size_t bytes = log.bytes();
  EXPECT_LE(lines, static_cast<size_t>(1 + tao::kLogRateBurst));
  EXPECT_GE(lines, 2u);
  std::printf(
      "%zu unknown frames (%zu bytes): %zu log lines, about %zu bytes\n",
      kFrames, flood.size(), lines, bytes);

  // Later, the next one logged says how many were not.
  log.Advance(tao::kLogRateInterval);
  ASSERT_TRUE(peer->WriteAll(TlvFrame(99, "") + ChatFrame("again")).ok());
  echoed = peer->ReadExactly(ChatFrame("again").size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(server.server().stats().unknown_types, kFrames + 1);
  const std::vector<std::string> messages = log.messages();
  ASSERT_EQ(messages.size(), lines + 1);
  EXPECT_TRUE(absl::StrContains(messages.back(), "unknown message type 99"))
      << messages.back();
  EXPECT_TRUE(absl::StrContains(messages.back(),
                                absl::StrCat(" [", kFrames - (lines - 1),
                                             " similar messages suppressed]")))
      << messages.back();
  peer->Close();
  server.Stop();
}

// A Go tao chat client is what Go tao's examples/chat client writes: type 1,
// the line as raw bytes; it reads the same.
TEST(ChatServerTest, GoTaoChatClientsShareTheRoomWithTaoClients) {
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 1;
  ChatServer server(options);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  absl::StatusOr<TestPeer> go = TestPeer::Connect(server.address());
  absl::StatusOr<TestPeer> ann = TestPeer::Connect(server.address());
  ASSERT_TRUE(go.ok() && ann.ok());

  // ann's own line back shows ann is admitted; go, silent so far, counts
  // as a tao client too and hears it as one.
  ASSERT_TRUE(ann->WriteAll(ChatFrame("ready", "ann")).ok());
  for (TestPeer* peer : {&*ann, &*go}) {
    absl::StatusOr<std::string> ready =
        peer->ReadExactly(ChatFrame("ready", "ann").size());
    ASSERT_TRUE(ready.ok()) << ready.status();
  }

  // Then the Go client speaks: both hear it, each in its own format.
  ASSERT_TRUE(go->WriteAll(TlvFrame(kGoChatType, "hello from go")).ok());
  const std::string go_line = TlvFrame(kGoChatType, "hello from go");
  absl::StatusOr<std::string> heard = go->ReadExactly(go_line.size());
  ASSERT_TRUE(heard.ok()) << heard.status();
  EXPECT_EQ(*heard, go_line);
  const std::string as_chat =
      ChatFrame("hello from go", go->local_address().ToString());
  heard = ann->ReadExactly(as_chat.size());
  ASSERT_TRUE(heard.ok()) << heard.status();
  EXPECT_EQ(*heard, as_chat);

  // A tao client's line reaches the Go client as "from: text".
  ASSERT_TRUE(ann->WriteAll(ChatFrame("hi go", "ann")).ok());
  heard = ann->ReadExactly(ChatFrame("hi go", "ann").size());
  ASSERT_TRUE(heard.ok()) << heard.status();
  EXPECT_EQ(*heard, ChatFrame("hi go", "ann"));
  const std::string for_go = TlvFrame(kGoChatType, "ann: hi go");
  heard = go->ReadExactly(for_go.size());
  ASSERT_TRUE(heard.ok()) << heard.status();
  EXPECT_EQ(*heard, for_go);
  EXPECT_EQ(server.server().groups().size("go"), 1u);
  go->Close();
  ann->Close();
  server.Stop();
}

}  // namespace
}  // namespace chat
