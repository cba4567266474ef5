// Interoperability with Go tao's TypeLengthValueCodec: frames written out by
// hand, byte by byte, from the wire format (codec/doc/wire_format.md), then
// compared both ways: our encoding equals the golden bytes, and decoding the
// golden bytes gives the expected frame. Also replays a Go peer's byte stream
// through a socket into tao::Buffer in awkward chunks.

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"
#include "tao/net/buffer.h"

namespace tao {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

struct Golden {
  const char* name;
  int32_t type;
  std::string payload;
  std::string wire;  // written by hand from the format, not by the codec
};

std::vector<Golden> GoldenFrames() {
  return {
      {"hello", 1, "hello",
       Bytes({0x01, 0x00, 0x00, 0x00,           // type 1
              0x05, 0x00, 0x00, 0x00,           // length 5
              0x68, 0x65, 0x6c, 0x6c, 0x6f})},  // "hello"
      // Go tao's HeartBeatMessage{Timestamp: 1700000000123456789}:
      // 1700000000123456789 = 0x17979cfe3d85cd15, int64 little-endian.
      {"heartbeat", 0, Bytes({0x15, 0xcd, 0x85, 0x3d, 0xfe, 0x9c, 0x97, 0x17}),
       Bytes({0x00, 0x00, 0x00, 0x00,  // type 0
              0x08, 0x00, 0x00, 0x00,  // length 8
              0x15, 0xcd, 0x85, 0x3d, 0xfe, 0x9c, 0x97, 0x17})},
      {"empty", 42, "",
       Bytes({0x2a, 0x00, 0x00, 0x00,     // type 42
              0x00, 0x00, 0x00, 0x00})},  // length 0
      {"negative_type", -2, "x",
       Bytes({0xfe, 0xff, 0xff, 0xff,  // type -2
              0x01, 0x00, 0x00, 0x00,  // length 1
              0x78})},                 // "x"
      {"wide_type", 0x12345678, "ab",
       Bytes({0x78, 0x56, 0x34, 0x12,  // type 0x12345678
              0x02, 0x00, 0x00, 0x00,  // length 2
              0x61, 0x62})},           // "ab"
      {"length_256", 7, std::string(256, 'z'),
       Bytes({0x07, 0x00, 0x00, 0x00,     // type 7
              0x00, 0x01, 0x00, 0x00}) +  // length 256
           std::string(256, 'z')},
  };
}

TEST(TlvInteropTest, EncodeEqualsGolden) {
  for (const Golden& g : GoldenFrames()) {
    std::string out;
    ASSERT_TRUE(TlvCodec::Default().AppendFrame(g.type, g.payload, &out).ok());
    EXPECT_EQ(out, g.wire) << g.name;
  }
}

TEST(TlvInteropTest, DecodeGolden) {
  for (const Golden& g : GoldenFrames()) {
    absl::StatusOr<std::optional<Frame>> frame =
        TlvCodec::Default().Decode(g.wire);
    ASSERT_TRUE(frame.ok()) << g.name << ": " << frame.status();
    ASSERT_TRUE(frame->has_value()) << g.name;
    EXPECT_EQ((*frame)->type, g.type) << g.name;
    EXPECT_EQ((*frame)->payload, g.payload) << g.name;
    EXPECT_EQ((*frame)->size, g.wire.size()) << g.name;
  }
}

TEST(TlvInteropTest, HeartbeatPayloadIsInt64LittleEndianNanoseconds) {
  const std::string wire = GoldenFrames()[1].wire;
  absl::StatusOr<std::optional<Frame>> frame = TlvCodec::Default().Decode(wire);
  ASSERT_TRUE(frame.ok() && frame->has_value());
  ASSERT_EQ((*frame)->type, 0);
  ASSERT_EQ((*frame)->payload.size(), 8u);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>((*frame)->payload[i]);
  }
  EXPECT_EQ(static_cast<int64_t>(v), int64_t{1700000000123456789});
}

TEST(TlvInteropTest, GoPeerAboveEightMiBIsRejected) {
  // Go tao refuses msgLen > MessageMaxBytes (1 << 23); so do we.
  const std::string at_max = Bytes({0x01, 0, 0, 0, 0x00, 0x00, 0x80, 0x00});
  const std::string above = Bytes({0x01, 0, 0, 0, 0x01, 0x00, 0x80, 0x00});
  absl::StatusOr<std::optional<Frame>> frame =
      TlvCodec::Default().Decode(at_max);
  ASSERT_TRUE(frame.ok());
  EXPECT_FALSE(frame->has_value());
  EXPECT_EQ(TlvCodec::Default().Decode(above).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A Go peer's stream arrives over a socket in small, unaligned pieces; a
// connection-style loop (ReadFd, Decode until nullopt, Retrieve) recovers
// every frame in order.
TEST(TlvInteropTest, StreamThroughSocketInOddChunks) {
  const std::vector<Golden> golden = GoldenFrames();
  std::string stream;
  for (int round = 0; round < 3; ++round) {
    for (const Golden& g : golden) stream += g.wire;
  }
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Buffer in;
  std::vector<std::pair<int32_t, std::string>> received;
  size_t sent = 0;
  size_t chunk = 1;
  while (sent < stream.size()) {
    const size_t n = std::min(chunk, stream.size() - sent);
    ASSERT_EQ(::write(sv[0], stream.data() + sent, n), static_cast<ssize_t>(n));
    sent += n;
    chunk = chunk % 7 + 1;  // 1, 2, ..., 7, 1, ...
    absl::StatusOr<size_t> r = in.ReadFd(sv[1]);
    ASSERT_TRUE(r.ok()) << r.status();
    for (;;) {
      absl::StatusOr<std::optional<Frame>> frame =
          TlvCodec::Default().Decode(in.view());
      ASSERT_TRUE(frame.ok()) << frame.status();
      if (!frame->has_value()) break;
      received.emplace_back((*frame)->type, std::string((*frame)->payload));
      in.Retrieve((*frame)->size);
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  EXPECT_EQ(in.readable_bytes(), 0u);
  ASSERT_EQ(received.size(), 3 * golden.size());
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i].first, golden[i % golden.size()].type) << i;
    EXPECT_EQ(received[i].second, golden[i % golden.size()].payload) << i;
  }
}

}  // namespace
}  // namespace tao
