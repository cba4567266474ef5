#include "codec/tlv_codec.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// An exact-size heap copy so ASan flags reads past the view.
struct Exact {
  explicit Exact(absl::string_view data)
      : bytes(new char[data.size()]), size(data.size()) {
    if (size > 0) std::memcpy(bytes.get(), data.data(), size);
  }
  absl::string_view view() const { return {bytes.get(), size}; }
  std::unique_ptr<char[]> bytes;
  size_t size;
};

TEST(TlvCodecTest, Basics) {
  const TlvCodec codec;
  EXPECT_EQ(codec.name(), "tlv");
  EXPECT_EQ(codec.max_header_size(), 8u);
  EXPECT_EQ(TlvCodec::kHeaderSize, 8u);
  EXPECT_EQ(codec.max_payload_size(), size_t{8} << 20);
  EXPECT_EQ(&TlvCodec::Default(), &TlvCodec::Default());
  EXPECT_EQ(TlvCodec::Default().max_payload_size(),
            TlvCodec::kDefaultMaxPayload);
}

TEST(TlvCodecTest, MaxPayloadIsClampedToTheLengthField) {
  const TlvCodec codec(std::numeric_limits<size_t>::max());
  EXPECT_EQ(codec.max_payload_size(), std::numeric_limits<uint32_t>::max());
}

TEST(TlvCodecTest, HeaderIsTypeThenLengthLittleEndian) {
  char header[TlvCodec::kHeaderSize];
  absl::StatusOr<size_t> n =
      TlvCodec::Default().EncodeHeader(0x01020304, 0x0070b0c0, header);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 8u);
  EXPECT_EQ(std::string(header, 8),
            Bytes({0x04, 0x03, 0x02, 0x01, 0xc0, 0xb0, 0x70, 0x00}));
}

TEST(TlvCodecTest, NegativeTypesAreAccepted) {
  const TlvCodec& codec = TlvCodec::Default();
  for (int32_t type : {-1, -5, std::numeric_limits<int32_t>::min()}) {
    std::string out;
    ASSERT_TRUE(codec.AppendFrame(type, "p", &out).ok());
    absl::StatusOr<std::optional<Frame>> frame = codec.Decode(out);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, type);
    EXPECT_EQ((*frame)->payload, "p");
  }
  std::string out;
  ASSERT_TRUE(codec.AppendFrame(-1, "", &out).ok());
  EXPECT_EQ(out, Bytes({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}));
}

TEST(TlvCodecTest, TruncatedHeadersAreIncomplete) {
  // Even 0xff bytes: the length's last byte has not arrived yet.
  const std::string header =
      Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  for (size_t n = 0; n < TlvCodec::kHeaderSize; ++n) {
    const Exact input(absl::string_view(header).substr(0, n));
    absl::StatusOr<std::optional<Frame>> frame =
        TlvCodec::Default().Decode(input.view());
    ASSERT_TRUE(frame.ok()) << n << ": " << frame.status();
    EXPECT_FALSE(frame->has_value()) << n;
  }
}

TEST(TlvCodecTest, OversizedLengthIsRejectedFromTheHeaderAlone) {
  const TlvCodec& codec = TlvCodec::Default();
  struct Case {
    std::string header;
    const char* message;
  };
  const Case cases[] = {
      // length = 8 MiB + 1 = 0x00800001
      {Bytes({1, 0, 0, 0, 0x01, 0x00, 0x80, 0x00}),
       "frame length 8388609 exceeds the maximum 8388608"},
      // length = 0xffffffff
      {Bytes({1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}),
       "frame length 4294967295 exceeds the maximum 8388608"},
      // length = 0x80000000: negative as a Go int32
      {Bytes({1, 0, 0, 0, 0x00, 0x00, 0x00, 0x80}),
       "frame length 2147483648 exceeds the maximum 8388608"},
  };
  for (const Case& c : cases) {
    const Exact input(c.header);
    absl::StatusOr<std::optional<Frame>> frame = codec.Decode(input.view());
    EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(frame.status().message(), c.message);
  }
}

TEST(TlvCodecTest, MaximumLengthWaitsForThePayload) {
  const Exact input(Bytes({1, 0, 0, 0, 0x00, 0x00, 0x80, 0x00}));  // 8 MiB
  absl::StatusOr<std::optional<Frame>> frame =
      TlvCodec::Default().Decode(input.view());
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_FALSE(frame->has_value());
}

TEST(TlvCodecTest, CustomMaximum) {
  const TlvCodec codec(10);
  std::string out;
  EXPECT_TRUE(codec.AppendFrame(1, "0123456789", &out).ok());
  EXPECT_EQ(codec.AppendFrame(1, "0123456789a", &out).code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::optional<Frame>> frame =
      codec.Decode(Bytes({1, 0, 0, 0, 11, 0, 0, 0}));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(frame.status().message(), "frame length 11 exceeds the maximum 10");
}

TEST(TlvCodecTest, DecodeLooksOnlyAtTheFirstFrame) {
  std::string stream;
  ASSERT_TRUE(TlvCodec::Default().AppendFrame(5, "abc", &stream).ok());
  stream += Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // bad
  absl::StatusOr<std::optional<Frame>> frame =
      TlvCodec::Default().Decode(stream);
  ASSERT_TRUE(frame.ok()) << frame.status();
  ASSERT_TRUE(frame->has_value());
  EXPECT_EQ((*frame)->size, 11u);
  EXPECT_EQ((*frame)->payload, "abc");
  EXPECT_EQ((*frame)->payload.data(), stream.data() + 8);
}

}  // namespace
}  // namespace tao
