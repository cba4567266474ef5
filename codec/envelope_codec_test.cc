#include "codec/envelope_codec.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/proto/envelope.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

// varint(body.size()) + body.
std::string Delimit(absl::string_view body) {
  return Varint(body.size()) + std::string(body);
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

absl::StatusOr<std::optional<Frame>> DecodeExact(const EnvelopeCodec& codec,
                                                 absl::string_view input) {
  const Exact exact(input);
  auto frame = codec.Decode(exact.view());
  // Re-point the payload at `input` so it outlives `exact` (`input` must
  // outlive the result).
  if (frame.ok() && frame->has_value() && !(*frame)->payload.empty()) {
    const absl::string_view payload = (*frame)->payload;
    EXPECT_GE(payload.data(), exact.view().data());
    EXPECT_LE(payload.data() + payload.size(),
              exact.view().data() + exact.view().size());
    (*frame)->payload =
        input.substr(static_cast<size_t>(payload.data() - exact.view().data()),
                     payload.size());
  }
  return frame;
}

// What protobuf's SerializeDelimitedToOstream writes.
std::string ProtobufDelimited(uint32_t type_id, absl::string_view payload) {
  Envelope envelope;
  envelope.set_type_id(type_id);
  envelope.set_payload(std::string(payload));
  std::ostringstream os;
  EXPECT_TRUE(
      google::protobuf::util::SerializeDelimitedToOstream(envelope, &os));
  return os.str();
}

TEST(EnvelopeCodecTest, Basics) {
  const EnvelopeCodec codec;
  EXPECT_EQ(codec.name(), "envelope");
  EXPECT_EQ(codec.max_header_size(), 17u);
  EXPECT_EQ(codec.max_payload_size(), size_t{8} << 20);
  EXPECT_EQ(&EnvelopeCodec::Default(), &EnvelopeCodec::Default());
  EXPECT_EQ(
      EnvelopeCodec(std::numeric_limits<size_t>::max()).max_payload_size(),
      EnvelopeCodec::kMaxSupportedPayload);
}

// Hand-written from the format: varint(N), 08 varint(type), 12 varint(len).
TEST(EnvelopeCodecTest, GoldenBytes) {
  struct Case {
    int32_t type;
    std::string payload;
    std::string wire;
  };
  const Case cases[] = {
      {1, "hello", Bytes({0x09, 0x08, 0x01, 0x12, 0x05}) + "hello"},
      {0, "", Bytes({0x00})},                       // both fields omitted
      {0, "ab", Bytes({0x04, 0x12, 0x02}) + "ab"},  // type omitted
      {1, "", Bytes({0x02, 0x08, 0x01})},           // payload omitted
      // type 300 = ac 02, len 200 = c8 01, N = 3 + 3 + 200 = 206 = ce 01
      {300, std::string(200, 'q'),
       Bytes({0xce, 0x01, 0x08, 0xac, 0x02, 0x12, 0xc8, 0x01}) +
           std::string(200, 'q')},
      {std::numeric_limits<int32_t>::max(), "",
       Bytes({0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x07})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    std::string out;
    ASSERT_TRUE(
        EnvelopeCodec::Default().AppendFrame(c.type, c.payload, &out).ok());
    EXPECT_EQ(out, c.wire);
    auto frame = DecodeExact(EnvelopeCodec::Default(), c.wire);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, c.type);
    EXPECT_EQ((*frame)->payload, c.payload);
    EXPECT_EQ((*frame)->size, c.wire.size());
  }
}

TEST(EnvelopeCodecTest, EncodingEqualsSerializeDelimitedToOstream) {
  const EnvelopeCodec codec;
  for (int32_t type : {0, 1, 127, 128, 16384, 1 << 21, 1 << 28,
                       std::numeric_limits<int32_t>::max()}) {
    for (size_t size : {0, 1, 32, 127, 128, 16383, 16384, 65536, 1 << 21}) {
      const std::string payload(size, static_cast<char>('a' + size % 26));
      std::string out;
      ASSERT_TRUE(codec.AppendFrame(type, payload, &out).ok());
      ASSERT_EQ(out, ProtobufDelimited(static_cast<uint32_t>(type), payload))
          << type << " " << size;
    }
  }
}

TEST(EnvelopeCodecTest, ProtobufParsesOurStream) {
  const EnvelopeCodec codec;
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        codec.AppendFrame(i * 977, std::string(i * 13, 'p'), &stream).ok());
  }
  google::protobuf::io::ArrayInputStream input(stream.data(),
                                               static_cast<int>(stream.size()));
  for (int i = 0; i < 50; ++i) {
    Envelope envelope;
    bool clean_eof = false;
    ASSERT_TRUE(google::protobuf::util::ParseDelimitedFromZeroCopyStream(
        &envelope, &input, &clean_eof))
        << i;
    EXPECT_EQ(envelope.type_id(), static_cast<uint32_t>(i * 977));
    EXPECT_EQ(envelope.payload(), std::string(i * 13, 'p'));
  }
  Envelope envelope;
  bool clean_eof = false;
  EXPECT_FALSE(google::protobuf::util::ParseDelimitedFromZeroCopyStream(
      &envelope, &input, &clean_eof));
  EXPECT_TRUE(clean_eof);
}

TEST(EnvelopeCodecTest, DecodesProtobufWrittenStream) {
  std::string stream;
  {
    google::protobuf::io::StringOutputStream output(&stream);
    for (int i = 0; i < 50; ++i) {
      Envelope envelope;
      envelope.set_type_id(static_cast<uint32_t>(i * 31337));
      envelope.set_payload(std::string(i * 101, static_cast<char>(i)));
      ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToZeroCopyStream(
          envelope, &output));
    }
  }
  const Exact exact(stream);
  absl::string_view rest = exact.view();
  for (int i = 0; i < 50; ++i) {
    auto frame = EnvelopeCodec::Default().Decode(rest);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, i * 31337);
    EXPECT_EQ((*frame)->payload, std::string(i * 101, static_cast<char>(i)));
    rest.remove_prefix((*frame)->size);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(EnvelopeCodecTest, NegativeTypeCannotBeEncoded) {
  std::string out = "keep";
  absl::Status s = EnvelopeCodec::Default().AppendFrame(-1, "x", &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(out, "keep");
}

// Decoding follows protobuf's parsing rules (checked against Envelope's own
// parser in DifferentialAgainstProtobuf below).
TEST(EnvelopeCodecTest, FieldsInAnyOrderUnknownFieldsAndDuplicates) {
  struct Case {
    const char* name;
    std::string body;
    int32_t type;
    std::string payload;
  };
  const Case cases[] = {
      {"payload_first", Bytes({0x12, 0x02}) + "ab" + Bytes({0x08, 0x07}), 7,
       "ab"},
      {"unknown_varint", Bytes({0x18, 0xff, 0x01, 0x08, 0x03}), 3, ""},
      {"unknown_fixed64",
       Bytes({0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x01}) + "z", 0, "z"},
      {"unknown_fixed32", Bytes({0x2d, 1, 2, 3, 4, 0x08, 0x05}), 5, ""},
      {"unknown_bytes", Bytes({0x32, 0x03}) + "xyz" + Bytes({0x08, 0x09}), 9,
       ""},
      {"big_field_number",
       Bytes({0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x08, 0x02}), 2, ""},
      {"duplicate_type_last_wins", Bytes({0x08, 0x01, 0x08, 0x02}), 2, ""},
      {"duplicate_payload_last_wins",
       Bytes({0x12, 0x01}) + "a" + Bytes({0x12, 0x02}) + "bc", 0, "bc"},
      {"type_id_wrong_wire_type_is_unknown",
       Bytes({0x0a, 0x01}) + "q" + Bytes({0x08, 0x04}), 4, ""},
      {"payload_wrong_wire_type_is_unknown", Bytes({0x10, 0x05}), 0, ""},
      {"type_id_truncated_to_32_bits",
       Bytes({0x08, 0x85, 0x80, 0x80, 0x80, 0x10}), 5, ""},  // 2^32 + 5
      {"non_canonical_varint", Bytes({0x08, 0x81, 0x80, 0x00}), 1, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Envelope parsed;
    ASSERT_TRUE(parsed.ParseFromString(c.body));  // protobuf agrees
    EXPECT_EQ(parsed.type_id(), static_cast<uint32_t>(c.type));
    EXPECT_EQ(parsed.payload(), c.payload);
    const std::string wire = Delimit(c.body);
    auto frame = DecodeExact(EnvelopeCodec::Default(), wire);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, c.type);
    EXPECT_EQ((*frame)->payload, c.payload);
    EXPECT_EQ((*frame)->size, wire.size());
  }
}

TEST(EnvelopeCodecTest, MalformedEnvelopesAreDataLoss) {
  struct Case {
    const char* name;
    std::string wire;  // complete frame (prefix included)
  };
  const Case cases[] = {
      {"start_group", Delimit(Bytes({0x1b, 0x1c}))},
      {"end_group", Delimit(Bytes({0x0c}))},
      {"wire_type_6", Delimit(Bytes({0x0e, 0x00}))},
      {"wire_type_7", Delimit(Bytes({0x0f, 0x00}))},
      {"field_number_0", Delimit(Bytes({0x00}))},
      {"tag_above_32_bits",
       Delimit(Bytes({0x80, 0x80, 0x80, 0x80, 0x10, 0x00}))},
      {"truncated_tag", Delimit(Bytes({0x80}))},
      {"truncated_varint", Delimit(Bytes({0x08, 0x80}))},
      {"truncated_fixed64", Delimit(Bytes({0x09, 1, 2, 3}))},
      {"truncated_fixed32", Delimit(Bytes({0x0d, 1, 2, 3}))},
      {"length_past_end", Delimit(Bytes({0x12, 0x05, 'a', 'b'}))},
      {"huge_length", Delimit(Bytes({0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}))},
      {"eleven_byte_varint",
       Delimit(Bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                      0x80, 0x80, 0x00}))},
      {"varint_above_64_bits",
       Delimit(Bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0x7f}))},
      {"type_id_above_int32_max",
       Delimit(Bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x08}))},
      {"type_id_uint32_max",
       Delimit(Bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0x0f}))},
      {"prefix_eleven_bytes", Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x00})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto frame = DecodeExact(EnvelopeCodec::Default(), c.wire);
    EXPECT_EQ(frame.status().code(), absl::StatusCode::kDataLoss)
        << frame.status();
  }
}

// Protobuf reads tags and lengths as at most 5 bytes, even non-canonical
// ones whose value would fit.
TEST(EnvelopeCodecTest, OverlongTagsAndLengthsAreRejectedLikeProtobuf) {
  const std::string bodies[] = {
      Bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}),  // tag 8 in 6 bytes
      Bytes({0x12, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'a'}),  // length 1 in 6
  };
  for (const std::string& body : bodies) {
    Envelope parsed;
    EXPECT_FALSE(parsed.ParseFromString(body));
    auto frame = DecodeExact(EnvelopeCodec::Default(), Delimit(body));
    EXPECT_EQ(frame.status().code(), absl::StatusCode::kDataLoss)
        << frame.status();
  }
}

TEST(EnvelopeCodecTest, OversizedLengthIsRejectedBeforeTheBody) {
  const EnvelopeCodec codec(100);  // envelope at most 100 + 32 bytes
  auto at_max = DecodeExact(codec, Varint(132));
  ASSERT_TRUE(at_max.ok()) << at_max.status();
  EXPECT_FALSE(at_max->has_value());
  auto above = DecodeExact(codec, Varint(133));
  EXPECT_EQ(above.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(above.status().message(),
            "frame length 133 exceeds the maximum 132");
  // An unfinished varint that is already too large is rejected at once.
  for (const std::string& prefix :
       {Bytes({0xff, 0xff}), Bytes({0x80, 0x80, 0x80, 0x80, 0x01 | 0x80})}) {
    auto partial = DecodeExact(codec, prefix);
    EXPECT_EQ(partial.status().code(), absl::StatusCode::kInvalidArgument)
        << partial.status();
  }
  // Still too large when it turns out malformed later: the error does not
  // depend on how the bytes arrive (found by envelope_codec_fuzzer).
  auto malformed = DecodeExact(codec, Bytes({0x87, 0x80, 0xde, 0xde, 0xde, 0xde,
                                             0xde, 0xde, 0xde, 0xde}));
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument)
      << malformed.status();
  // ... but one that may still end small waits.
  auto small_so_far = DecodeExact(codec, Bytes({0x85}));
  ASSERT_TRUE(small_so_far.ok());
  EXPECT_FALSE(small_so_far->has_value());
}

TEST(EnvelopeCodecTest, PayloadAboveMaximumIsInvalidArgument) {
  const EnvelopeCodec codec(16);
  // N = 19 fits the 16 + 32 envelope limit, but the payload has 17 bytes.
  const std::string wire = Delimit(Bytes({0x12, 0x11}) + std::string(17, 'x'));
  auto frame = DecodeExact(codec, wire);
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument)
      << frame.status();
}

// Random envelope bodies built from valid and invalid pieces: whenever we
// accept one, protobuf's parser must accept it too with the same fields, and
// whenever protobuf rejects one, so must we.
TEST(EnvelopeCodecTest, DifferentialAgainstProtobuf) {
  std::mt19937 rng(99);
  auto random_varint = [&rng]() -> std::string {
    switch (rng() % 4) {
      case 0:
        return Varint(rng() % 128);
      case 1:
        return Varint(rng());
      case 2:
        return Varint((uint64_t{rng()} << 32) | rng());
      default: {  // raw bytes, possibly overlong or unterminated
        std::string s(1 + rng() % 11, '\0');
        for (char& c : s) c = static_cast<char>(rng() | 0x80);
        if (rng() % 2) s.back() = static_cast<char>(rng() & 0x7f);
        return s;
      }
    }
  };
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string body;
    const int fields = static_cast<int>(rng() % 4);
    for (int f = 0; f < fields; ++f) {
      const uint32_t field = rng() % 4 == 0 ? rng() % 40 : 1 + rng() % 2;
      const uint32_t wire_type =
          rng() % 5 == 0 ? rng() % 8 : (field == 2 ? 2 : 0);
      body += Varint((uint64_t{field} << 3) | wire_type);
      switch (rng() % 6) {
        case 0:
          body += random_varint();
          break;
        case 1: {
          const size_t len = rng() % 10;
          body += Varint(rng() % 3 == 0 ? len + rng() % 4 : len);
          body += std::string(len, 'v');
          break;
        }
        case 2:
          body += std::string(rng() % 9, 'w');
          break;
        default:
          body += Varint(rng() % 300);
          if (wire_type == 2) body += std::string(rng() % 5, 'u');
          break;
      }
    }
    Envelope parsed;
    const bool protobuf_ok = parsed.ParseFromString(body);
    const std::string wire = Delimit(body);
    auto frame = DecodeExact(EnvelopeCodec::Default(), wire);
    ASSERT_TRUE(!frame.ok() || frame->has_value());  // the body is complete
    if (frame.ok()) {
      ++accepted;
      ASSERT_TRUE(protobuf_ok) << i;
      EXPECT_EQ(static_cast<uint32_t>((*frame)->type), parsed.type_id()) << i;
      EXPECT_EQ((*frame)->payload, parsed.payload()) << i;
    } else {
      ++rejected;
      EXPECT_EQ(frame.status().code(), absl::StatusCode::kDataLoss)
          << frame.status();
    }
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace tao
