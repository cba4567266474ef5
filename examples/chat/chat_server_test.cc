// The chat server under a hostile peer (issue 12): 100,000 frames of a type
// it does not know, 800 KB on one connection, each one an OnError. They are
// counted in the server's stats; its log gets a few lines, not 100,000.
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

std::string ChatFrame(absl::string_view text) {
  ChatMessage message;
  message.set_from("mallory");
  message.set_text(std::string(text));
  return TlvFrame(1, message.SerializeAsString());
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

}  // namespace
}  // namespace chat
