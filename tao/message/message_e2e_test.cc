// End-to-end tests of tao's message layer over loopback: a broadcast to many
// connections arrives everywhere exactly once (encoded once), Unicast reaches
// only its target, the envelope codec works between a server and a client,
// a hand-written Go tao frame is echoed byte for byte, and one handler
// serves a server and a client through ctx.endpoint() alone.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "codec/codec.h"
#include "codec/envelope_codec.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"
#include "tao/message/client.h"
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

using ::tao::testing::Callbacks;
using ::tao::testing::ConnectionTracker;
using ::tao::testing::kTimeout;
using ::tao::testing::kTsan;
using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kChatType = 1;

// The TLV framing, counting the frames it encodes.
class CountingCodec final : public Codec {
 public:
  CountingCodec() : Codec(TlvCodec::kDefaultMaxPayload) {}

  absl::string_view name() const override { return "counting-tlv"; }
  size_t max_header_size() const override { return TlvCodec::kHeaderSize; }
  absl::StatusOr<size_t> EncodeHeader(int32_t type, size_t payload_size,
                                      char* out) const override {
    encodes_.fetch_add(1, std::memory_order_relaxed);
    return TlvCodec::Default().EncodeHeader(type, payload_size, out);
  }
  absl::StatusOr<std::optional<Frame>> Decode(
      absl::string_view input) const override {
    return TlvCodec::Default().Decode(input);
  }

  int encodes() const { return encodes_.load(std::memory_order_relaxed); }

 private:
  mutable std::atomic<int> encodes_{0};
};

// Opens `n` raw peers, at most 100 handshakes in flight at a time.
absl::Status ConnectPeers(const InetAddress& to, size_t n,
                          std::vector<TestPeer>* peers) {
  constexpr size_t kBatch = 100;
  for (size_t start = 0; start < n; start += kBatch) {
    const size_t end = std::min(n, start + kBatch);
    for (size_t i = start; i < end; ++i) {
      absl::StatusOr<TestPeer> peer =
          TestPeer::StartConnect(to, TestPeer::Options());
      if (!peer.ok()) return peer.status();
      peers->push_back(*std::move(peer));
    }
    for (size_t i = start; i < end; ++i) {
      absl::Status connected = (*peers)[i].FinishConnect();
      if (!connected.ok()) return connected;
    }
  }
  return absl::OkStatus();
}

// --- 7. Broadcast to many connections: everywhere, exactly once -----------

TEST(MessageE2ETest, BroadcastReachesEveryConnectionExactlyOnce) {
  const size_t kPeers = kTsan ? 200 : 1000;
  // Both ends of every connection live in this process.
  absl::Status fds = ::tao::testing::EnsureFdLimit(2 * kPeers + 256);
  if (!fds.ok()) GTEST_SKIP() << fds;

  auto codec = std::make_shared<CountingCodec>();
  ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 0;
  options.codec = codec;
  MessageServer server(options);
  ASSERT_TRUE(server.Start().ok());

  std::vector<TestPeer> peers;
  absl::Status connected = ConnectPeers(server.address(), kPeers, &peers);
  ASSERT_TRUE(connected.ok()) << connected;
  ASSERT_TRUE(server.tracker().WaitForConnects(kPeers));
  ASSERT_EQ(server.server().connection_count(), kPeers);

  test::Chat chat;
  chat.set_text("to everyone, once");
  ASSERT_EQ(codec->encodes(), 0);
  absl::StatusOr<size_t> reached = server.server().Broadcast(chat);
  ASSERT_TRUE(reached.ok()) << reached.status();
  EXPECT_EQ(*reached, kPeers);
  // One encoding, shared by every connection.
  EXPECT_EQ(codec->encodes(), 1);

  // A second broadcast is a fence: each connection's output is ordered, so
  // a peer that got the first frame twice would read it where the fence
  // should be.
  test::Chat fence;
  fence.set_text("fence");
  reached = server.server().Broadcast(fence);
  ASSERT_TRUE(reached.ok()) << reached.status();
  EXPECT_EQ(*reached, kPeers);
  EXPECT_EQ(codec->encodes(), 2);

  const std::string want = TlvFrame(kChatType, chat.SerializeAsString()) +
                           TlvFrame(kChatType, fence.SerializeAsString());
  size_t exact = 0;
  for (size_t i = 0; i < peers.size(); ++i) {
    absl::StatusOr<std::string> got = peers[i].ReadExactly(want.size());
    ASSERT_TRUE(got.ok()) << "peer " << i << ": " << got.status();
    EXPECT_EQ(*got, want) << "peer " << i;
    bool eof = false;
    absl::StatusOr<std::string> extra = peers[i].ReadAvailable(&eof);
    ASSERT_TRUE(extra.ok()) << "peer " << i << ": " << extra.status();
    EXPECT_EQ(extra->size(), 0u) << "peer " << i;
    EXPECT_FALSE(eof) << "peer " << i;
    if (*got == want && extra->empty()) ++exact;
  }
  EXPECT_EQ(exact, kPeers);
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.connections, kPeers);
  EXPECT_EQ(stats.closed_with_error, 0u);
  EXPECT_EQ(server.tracker().errors(), 0u);
  peers.clear();
  ASSERT_TRUE(server.tracker().WaitForCloses(kPeers));
  EXPECT_TRUE(server.tracker().CheckBalanced());
}

TEST(MessageE2ETest, UnicastReachesOnlyItsTarget) {
  ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 0;
  MessageServer server(options);
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestPeer> peers;
  ASSERT_TRUE(ConnectPeers(server.address(), 3, &peers).ok());
  std::vector<uint64_t> ids;
  for (TestPeer& peer : peers) {
    ConnectionPtr c = server.tracker().WaitForPeer(peer.local_address());
    ASSERT_NE(c, nullptr);
    ids.push_back(c->id());
  }
  test::Chat chat;
  chat.set_text("just for you");
  ASSERT_TRUE(server.server().Unicast(ids[1], chat).ok());
  // Then a broadcast fence: peers 0 and 2 must see the fence first.
  test::Chat fence;
  fence.set_text("fence");
  ASSERT_TRUE(server.server().Broadcast(fence).ok());
  const std::string unicast = TlvFrame(kChatType, chat.SerializeAsString());
  const std::string fenced = TlvFrame(kChatType, fence.SerializeAsString());
  for (size_t i = 0; i < peers.size(); ++i) {
    const std::string want = i == 1 ? unicast + fenced : fenced;
    absl::StatusOr<std::string> got = peers[i].ReadExactly(want.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want) << "peer " << i;
  }
  absl::Status missing = server.server().Unicast(999999, chat);
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
}

// --- 8. The envelope codec end to end -------------------------------------

// One I/O loop and the envelope codec.
ServerOptions EnvelopeOptions(int handler_threads) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = handler_threads;
  options.codec = std::make_shared<EnvelopeCodec>();
  return options;
}

// Answers every Chat with "echo: <text>".
absl::Status RegisterChatEcho(Registry& registry) {
  return registry.Register<test::Chat>([](Context& ctx, const test::Chat& c) {
    test::Chat reply;
    reply.set_text("echo: " + c.text());
    (void)ctx.Reply(reply);
  });
}

TEST(MessageE2ETest, EnvelopeCodecServerAndClientExchangeChats) {
  constexpr int kMessages = 50;
  MessageServer server(EnvelopeOptions(/*handler_threads=*/2));
  ASSERT_TRUE(RegisterChatEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());

  absl::Mutex mu;
  std::vector<std::string> replies;
  // Set before Connect, so before any handler runs.
  const Endpoint* client_endpoint = nullptr;
  Registry client_registry;
  ASSERT_TRUE(client_registry
                  .Register<test::Chat>([&](Context& ctx, const test::Chat& c) {
                    // The client's handlers see the client.
                    EXPECT_EQ(&ctx.endpoint(), client_endpoint);
                    EXPECT_EQ(dynamic_cast<const Server*>(&ctx.endpoint()),
                              nullptr);
                    absl::MutexLock lock(&mu);
                    replies.push_back(c.text());
                  })
                  .ok());
  ClientOptions client_options;
  client_options.handler_threads = 1;
  client_options.codec = std::make_shared<EnvelopeCodec>();
  Client client(client_options, &client_registry);
  client_endpoint = &client;
  ConnectionTracker client_tracker;
  ::tao::testing::Install(client, client_tracker, Callbacks());
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected(kTimeout).ok());
  for (int i = 0; i < kMessages; ++i) {
    test::Chat chat;
    chat.set_text(absl::StrCat("hello ", i));
    ASSERT_TRUE(client.Send(chat).ok());
  }
  {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return replies.size() >= kMessages;
    };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), kTimeout))
        << replies.size();
    for (int i = 0; i < kMessages; ++i) {
      EXPECT_EQ(replies[i], absl::StrCat("echo: hello ", i));
    }
  }
  EXPECT_EQ(server.server().stats().messages, uint64_t{kMessages});
  EXPECT_EQ(server.tracker().errors(), 0u);
  EXPECT_EQ(client_tracker.errors(), 0u);
  client.Stop();
}

TEST(MessageE2ETest, EnvelopeCodecServerSpeaksDelimitedEnvelopesOnTheWire) {
  MessageServer server(EnvelopeOptions(/*handler_threads=*/0));
  ASSERT_TRUE(RegisterChatEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server.address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  // varint(8) | Envelope{type_id: 1, payload: Chat{text: "hi"}}, by hand:
  // 08 01 = field 1 varint 1; 12 04 = field 2, 4 bytes; 0a 02 'h' 'i'.
  const std::string request("\x08\x08\x01\x12\x04\x0a\x02hi", 9);
  // varint(14) | 08 01 | 12 0a | 0a 08 "echo: hi".
  const std::string response(
      "\x0e\x08\x01\x12\x0a\x0a\x08"
      "echo: hi",
      15);
  ASSERT_TRUE(peer->WriteAll(request).ok());
  absl::StatusOr<std::string> got = peer->ReadExactly(response.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, response);
}

// --- 9. Go tao compatibility: a hand-written frame, echoed byte for byte ---

class GoTaoEchoTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = GetParam();
    server_ = std::make_unique<MessageServer>(options);
    ASSERT_TRUE(server_->registry()
                    .RegisterRaw(1,
                                 [](Context& ctx, absl::string_view payload) {
                                   absl::Status s =
                                       ctx.ReplyRaw(ctx.type(), payload);
                                   EXPECT_TRUE(s.ok()) << s;
                                 })
                    .ok());
    ASSERT_TRUE(server_->Start().ok());
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->address());
    ASSERT_TRUE(peer.ok()) << peer.status();
    peer_ = *std::move(peer);
  }

  // Go tao's TypeLengthValueCodec frame for type 1, payload "hello",
  // written out from the wire format: int32 LE 1, uint32 LE 5, "hello".
  const std::string kFrame{
      "\x01\x00\x00\x00"
      "\x05\x00\x00\x00"
      "\x68\x65\x6c\x6c\x6f",
      13};

  std::unique_ptr<MessageServer> server_;
  TestPeer peer_;
};

TEST_P(GoTaoEchoTest, HandWrittenFrameIsEchoedByteForByte) {
  ASSERT_TRUE(peer_.WriteAll(kFrame).ok());
  absl::StatusOr<std::string> got = peer_.ReadExactly(kFrame.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, kFrame);
  bool eof = false;
  absl::StatusOr<std::string> extra = peer_.ReadAvailable(&eof);
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(*extra, "");
  EXPECT_FALSE(eof);
}

TEST_P(GoTaoEchoTest, FramesSplitIntoSingleBytesAndBatchedAreEchoed) {
  // One byte per write: the server reassembles the frame.
  for (char c : kFrame) {
    ASSERT_TRUE(peer_.WriteAll(absl::string_view(&c, 1)).ok());
  }
  absl::StatusOr<std::string> got = peer_.ReadExactly(kFrame.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, kFrame);
  // Three frames in one write: three echoes, in order.
  const std::string three = kFrame + kFrame + kFrame;
  ASSERT_TRUE(peer_.WriteAll(three).ok());
  got = peer_.ReadExactly(three.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, three);
  EXPECT_EQ(server_->server().stats().messages, 4u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, GoTaoEchoTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

// --- 10. One handler, both sides: everything through ctx.endpoint() -------

// What one handler call saw.
struct Handled {
  const Endpoint* endpoint;
  std::string text;
  bool found_itself;  // endpoint.Find(net id) is the handler's connection
  size_t connection_count;
};

class BothSidesTest : public ::testing::TestWithParam<int> {
 protected:
  // Chat "ping N" -> Send(connection, "pong N"); "pong N" -> Broadcast
  // "ack N"; "ack N" ends the exchange. Only ctx.endpoint() is used, so the
  // handler does not know (or care) which side it runs on.
  void RegisterHandler(Registry& registry) {
    ASSERT_TRUE(
        registry
            .Register<test::Chat>([this](Context& ctx, const test::Chat& chat) {
              const Endpoint& endpoint = ctx.endpoint();
              {
                absl::MutexLock lock(&mu_);
                handled_.push_back(
                    {&endpoint, chat.text(),
                     endpoint.Find(ctx.net_id()).get() == &ctx.connection(),
                     endpoint.connection_count()});
              }
              absl::string_view text = chat.text();
              test::Chat next;
              if (absl::ConsumePrefix(&text, "ping ")) {
                next.set_text(absl::StrCat("pong ", text));
                absl::Status sent = endpoint.Send(ctx.connection(), next);
                EXPECT_TRUE(sent.ok()) << sent;
              } else if (absl::ConsumePrefix(&text, "pong ")) {
                next.set_text(absl::StrCat("ack ", text));
                absl::StatusOr<size_t> reached = endpoint.Broadcast(next);
                ASSERT_TRUE(reached.ok()) << reached.status();
                EXPECT_EQ(*reached, 1u);
              }
            })
            .ok());
  }

  // Waits until a handler saw `text`.
  bool WaitForText(const std::string& text) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const Handled& h : handled_) {
        if (h.text == text) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), kTimeout);
  }

  std::vector<Handled> handled() {
    absl::MutexLock lock(&mu_);
    return handled_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Handled> handled_ ABSL_GUARDED_BY(mu_);
};

TEST_P(BothSidesTest, OneHandlerServesAServerAndAClient) {
  ServerOptions server_options;
  server_options.io_threads = 1;
  server_options.handler_threads = GetParam();
  MessageServer server(server_options);
  // One registry, one handler, for both endpoints.
  Registry& registry = server.registry();
  ASSERT_NO_FATAL_FAILURE(RegisterHandler(registry));
  ASSERT_TRUE(server.Start().ok());
  ClientOptions client_options;
  client_options.handler_threads = GetParam();
  Client client(client_options, &registry);
  ConnectionTracker client_tracker;
  ::tao::testing::Install(client, client_tracker, Callbacks());
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected(kTimeout).ok());
  ASSERT_TRUE(server.tracker().WaitForConnects(1));

  // Started by the client: the server Sends the pong, the client
  // Broadcasts the ack.
  test::Chat ping;
  ping.set_text("ping 1");
  ASSERT_TRUE(client.Send(ping).ok());
  ASSERT_TRUE(WaitForText("ack 1"));
  // Started by the server: the client Sends the pong, the server
  // Broadcasts the ack.
  ping.set_text("ping 2");
  absl::StatusOr<size_t> reached = server.server().Broadcast(ping);
  ASSERT_TRUE(reached.ok()) << reached.status();
  ASSERT_EQ(*reached, 1u);
  ASSERT_TRUE(WaitForText("ack 2"));

  const Endpoint* const on_server = &server.server();
  const Endpoint* const on_client = &client;
  const std::vector<std::pair<const Endpoint*, std::string>> want = {
      {on_server, "ping 1"}, {on_client, "pong 1"}, {on_server, "ack 1"},
      {on_client, "ping 2"}, {on_server, "pong 2"}, {on_client, "ack 2"}};
  const std::vector<Handled> got = handled();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("handler call ", i, ": ", got[i].text));
    EXPECT_EQ(got[i].text, want[i].second);
    EXPECT_EQ(got[i].endpoint, want[i].first)
        << (got[i].endpoint == on_server   ? "ran with the server"
            : got[i].endpoint == on_client ? "ran with the client"
                                           : "ran with an unknown endpoint");
    EXPECT_TRUE(got[i].found_itself);
    EXPECT_EQ(got[i].connection_count, 1u);
  }
  EXPECT_EQ(server.server().stats().messages, 3u);
  EXPECT_EQ(client.stats().messages, 3u);
  EXPECT_EQ(server.tracker().errors(), 0u);
  EXPECT_EQ(client_tracker.errors(), 0u);
  client.Stop();
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, BothSidesTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

}  // namespace
}  // namespace tao
