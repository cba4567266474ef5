#include "codec/frame_encoder.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/envelope_codec.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

// Decodes exactly one frame filling all of `bytes`.
Frame DecodeOne(const Codec& codec, absl::string_view bytes) {
  absl::StatusOr<std::optional<Frame>> frame = codec.Decode(bytes);
  EXPECT_TRUE(frame.ok()) << frame.status();
  if (!frame.ok() || !frame->has_value()) {
    ADD_FAILURE() << "no frame";
    return Frame{};
  }
  EXPECT_EQ((*frame)->size, bytes.size());
  return **frame;
}

class FrameEncoderTest : public testing::TestWithParam<const Codec*> {};

TEST_P(FrameEncoderTest, MessageFrameDecodesToTheSerializedMessage) {
  const Codec& codec = *GetParam();
  test::Chat chat;
  chat.set_text("hello, tao");
  std::string out;
  ASSERT_TRUE(AppendMessageFrame(codec, chat, &out).ok());
  const Frame frame = DecodeOne(codec, out);
  EXPECT_EQ(frame.type, 1);
  EXPECT_EQ(frame.payload, chat.SerializeAsString());
  test::Chat parsed;
  ASSERT_TRUE(parsed.ParseFromArray(frame.payload.data(),
                                    static_cast<int>(frame.payload.size())));
  EXPECT_EQ(parsed.text(), "hello, tao");
}

TEST_P(FrameEncoderTest, EmptyAndLargeMessages) {
  const Codec& codec = *GetParam();
  test::Numbers numbers;
  std::string out;
  ASSERT_TRUE(AppendMessageFrame(codec, numbers, &out).ok());
  Frame frame = DecodeOne(codec, out);
  EXPECT_EQ(frame.type, 2);
  EXPECT_TRUE(frame.payload.empty());
  for (int i = 0; i < 100000; ++i) numbers.add_values(int64_t{i} * 1000003);
  out.clear();
  ASSERT_TRUE(AppendMessageFrame(codec, numbers, &out).ok());
  frame = DecodeOne(codec, out);
  EXPECT_EQ(frame.payload, numbers.SerializeAsString());
}

TEST_P(FrameEncoderTest, AppendsAfterExistingBytes) {
  const Codec& codec = *GetParam();
  test::Chat a, b;
  a.set_text("first");
  b.set_text("second");
  std::string expected;
  ASSERT_TRUE(codec.AppendFrame(1, a.SerializeAsString(), &expected).ok());
  ASSERT_TRUE(codec.AppendFrame(1, b.SerializeAsString(), &expected).ok());
  std::string out;
  ASSERT_TRUE(AppendMessageFrame(codec, a, &out).ok());
  ASSERT_TRUE(AppendMessageFrame(codec, b, &out).ok());
  EXPECT_EQ(out, expected);
}

TEST_P(FrameEncoderTest, ExplicitTypeForAMessageWithoutId) {
  const Codec& codec = *GetParam();
  test::Untyped untyped;
  untyped.set_text("raw");
  std::string out = "keep";
  absl::Status s = AppendMessageFrame(codec, untyped, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("tao.test.Untyped"), absl::string_view::npos);
  EXPECT_EQ(out, "keep");
  out.clear();
  ASSERT_TRUE(AppendMessageFrame(codec, untyped, 77, &out).ok());
  const Frame frame = DecodeOne(codec, out);
  EXPECT_EQ(frame.type, 77);
  EXPECT_EQ(frame.payload, untyped.SerializeAsString());
}

TEST_P(FrameEncoderTest, CordsMatchStrings) {
  const Codec& codec = *GetParam();
  test::Chat chat;
  chat.set_text(std::string(5000, 'c'));  // large enough for an external Cord
  std::string expected;
  ASSERT_TRUE(AppendMessageFrame(codec, chat, &expected).ok());
  absl::StatusOr<absl::Cord> cord = EncodeMessageFrame(codec, chat);
  ASSERT_TRUE(cord.ok()) << cord.status();
  EXPECT_EQ(std::string(*cord), expected);

  expected.clear();
  ASSERT_TRUE(codec.AppendFrame(9, "raw payload", &expected).ok());
  absl::StatusOr<absl::Cord> raw = EncodeRawFrame(codec, 9, "raw payload");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(std::string(*raw), expected);
}

INSTANTIATE_TEST_SUITE_P(Codecs, FrameEncoderTest,
                         testing::Values(&TlvCodec::Default(),
                                         &EnvelopeCodec::Default()),
                         [](const testing::TestParamInfo<const Codec*>& info) {
                           return std::string(info.param->name());
                         });

TEST(FrameEncoderErrorsTest, TooLargeIsInvalidArgumentAndLeavesOutAlone) {
  const TlvCodec codec(16);
  test::Chat chat;
  chat.set_text(std::string(20, 'x'));
  std::string out = "keep";
  absl::Status s = AppendMessageFrame(codec, chat, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(out, "keep");
  EXPECT_EQ(EncodeMessageFrame(codec, chat).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeRawFrame(codec, 1, std::string(17, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FrameEncoderErrorsTest, NegativeIdWithEnvelopeIsInvalidArgument) {
  test::Negative negative;
  negative.set_text("n");
  std::string out;
  EXPECT_EQ(AppendMessageFrame(EnvelopeCodec::Default(), negative, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(AppendMessageFrame(TlvCodec::Default(), negative, &out).ok());
  EXPECT_EQ(DecodeOne(TlvCodec::Default(), out).type, -5);
}

TEST(FrameEncoderErrorsTest, MissingRequiredFieldsIsInternal) {
  // A proto2 message with required fields, left empty.
  google::protobuf::UninterpretedOption::NamePart part;
  std::string out;
  absl::Status s = AppendMessageFrame(TlvCodec::Default(), part, 3, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_TRUE(out.empty());
  part.set_name_part("x");
  part.set_is_extension(false);
  EXPECT_TRUE(AppendMessageFrame(TlvCodec::Default(), part, 3, &out).ok());
}

}  // namespace
}  // namespace tao
