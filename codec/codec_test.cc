// The Codec contract (codec/codec.h), checked for every codec: round trips,
// frames split at every byte, frames back to back, and random bytes.

#include "codec/codec.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/envelope_codec.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

// A heap copy of exactly data.size() bytes, so AddressSanitizer reports any
// read past the view handed to Decode.
class ExactCopy {
 public:
  explicit ExactCopy(absl::string_view data)
      : bytes_(new char[data.size()]), size_(data.size()) {
    if (size_ > 0) std::memcpy(bytes_.get(), data.data(), size_);
  }
  absl::string_view view() const { return {bytes_.get(), size_}; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_;
};

struct CodecCase {
  const char* name;
  std::function<std::unique_ptr<Codec>(size_t max_payload)> make;
};

std::unique_ptr<Codec> MakeTlv(size_t max) {
  return std::make_unique<TlvCodec>(max);
}
std::unique_ptr<Codec> MakeEnvelope(size_t max) {
  return std::make_unique<EnvelopeCodec>(max);
}

class CodecTest : public testing::TestWithParam<CodecCase> {
 protected:
  std::unique_ptr<Codec> Make(size_t max_payload = 8 << 20) const {
    return GetParam().make(max_payload);
  }
};

std::string Payload(size_t size, uint32_t seed = 1) {
  std::string s(size, '\0');
  std::mt19937 rng(seed);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string MustEncode(const Codec& codec, int32_t type,
                       absl::string_view payload) {
  std::string out;
  absl::Status s = codec.AppendFrame(type, payload, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// True if `inner` lies within `outer`.
bool Within(absl::string_view inner, absl::string_view outer) {
  if (inner.empty()) return true;
  return inner.data() >= outer.data() &&
         inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST_P(CodecTest, NameAndLimits) {
  auto codec = Make(1234);
  EXPECT_FALSE(codec->name().empty());
  EXPECT_EQ(codec->max_payload_size(), 1234u);
  EXPECT_GT(codec->max_header_size(), 0u);
}

TEST_P(CodecTest, RoundTripsPayloadSizes) {
  auto codec = Make();
  const size_t max = codec->max_payload_size();
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{32}, size_t{64} << 10, max}) {
    SCOPED_TRACE(size);
    const std::string payload = Payload(size);
    const std::string encoded = MustEncode(*codec, 7, payload);
    EXPECT_LE(encoded.size(), codec->max_header_size() + size);
    const ExactCopy input(encoded);
    absl::StatusOr<std::optional<Frame>> frame = codec->Decode(input.view());
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, 7);
    EXPECT_EQ((*frame)->size, encoded.size());
    EXPECT_TRUE((*frame)->payload == payload);
    EXPECT_TRUE(Within((*frame)->payload, input.view()));  // a view, no copy
  }
}

TEST_P(CodecTest, EncodeHeaderThenPayloadEqualsAppendFrame) {
  auto codec = Make();
  const std::string payload = Payload(300);
  std::string header(codec->max_header_size(), '\0');
  absl::StatusOr<size_t> n =
      codec->EncodeHeader(12345, payload.size(), header.data());
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_LE(*n, codec->max_header_size());
  header.resize(*n);
  EXPECT_EQ(header + payload, MustEncode(*codec, 12345, payload));
}

TEST_P(CodecTest, RoundTripsTypes) {
  auto codec = Make();
  for (int32_t type : {0, 1, 127, 128, 300, 65535, 1 << 28, INT32_MAX}) {
    SCOPED_TRACE(type);
    const std::string encoded = MustEncode(*codec, type, "x");
    absl::StatusOr<std::optional<Frame>> frame = codec->Decode(encoded);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, type);
    EXPECT_EQ((*frame)->payload, "x");
  }
}

TEST_P(CodecTest, FrameSplitAtEveryByteIsIncompleteUntilWhole) {
  auto codec = Make();
  for (size_t size : {0, 1, 32, 127, 128, 300, 20000}) {
    SCOPED_TRACE(size);
    const std::string payload = Payload(size, static_cast<uint32_t>(size));
    const std::string encoded = MustEncode(*codec, 3, payload);
    for (size_t prefix = 0; prefix < encoded.size(); ++prefix) {
      const ExactCopy input(absl::string_view(encoded).substr(0, prefix));
      absl::StatusOr<std::optional<Frame>> frame = codec->Decode(input.view());
      ASSERT_TRUE(frame.ok()) << prefix << ": " << frame.status();
      ASSERT_FALSE(frame->has_value()) << prefix;
    }
    const ExactCopy input(encoded);
    absl::StatusOr<std::optional<Frame>> frame = codec->Decode(input.view());
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, 3);
    EXPECT_EQ((*frame)->size, encoded.size());
    EXPECT_TRUE((*frame)->payload == payload);
  }
}

TEST_P(CodecTest, DecodesFramesBackToBack) {
  auto codec = Make();
  std::mt19937 rng(42);
  std::vector<std::pair<int32_t, std::string>> sent;
  std::string stream;
  for (int i = 0; i < 1000; ++i) {
    const int32_t type = static_cast<int32_t>(rng() % 100000);
    const size_t size = rng() % 4 == 0 ? rng() % 5000 : rng() % 40;
    sent.emplace_back(type, Payload(size, rng()));
    ASSERT_TRUE(codec->AppendFrame(type, sent.back().second, &stream).ok());
  }
  const ExactCopy input(stream);
  absl::string_view rest = input.view();
  for (const auto& [type, payload] : sent) {
    absl::StatusOr<std::optional<Frame>> frame = codec->Decode(rest);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, type);
    EXPECT_TRUE((*frame)->payload == payload);
    rest.remove_prefix((*frame)->size);
  }
  EXPECT_TRUE(rest.empty());
  absl::StatusOr<std::optional<Frame>> end = codec->Decode(rest);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_P(CodecTest, OversizedPayloadIsRejectedOnEncode) {
  auto codec = Make(16);
  std::string out = "keep";
  absl::Status s = codec->AppendFrame(1, std::string(17, 'a'), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(out, "keep");
  std::string header(codec->max_header_size(), '\0');
  EXPECT_EQ(codec->EncodeHeader(1, 17, header.data()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(codec->AppendFrame(1, std::string(16, 'a'), &out).ok());
}

TEST_P(CodecTest, OversizedFrameIsRejectedBeforeThePayloadArrives) {
  auto big = Make(1 << 20);
  auto small = Make(1000);
  const std::string encoded = MustEncode(*big, 9, Payload(2000));
  // Only the header (and at most a few bytes of the payload) are present.
  const ExactCopy input(
      absl::string_view(encoded).substr(0, big->max_header_size()));
  absl::StatusOr<std::optional<Frame>> frame = small->Decode(input.view());
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument)
      << frame.status();
  EXPECT_NE(frame.status().message().find("exceeds the maximum"),
            absl::string_view::npos)
      << frame.status();
}

TEST_P(CodecTest, RandomBytesNeverCrashOrEscapeTheInput) {
  // A small maximum so random headers often describe a frame that fits.
  auto codec = Make(64);
  std::mt19937 rng(20240601);
  int frames = 0, errors = 0, incomplete = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string bytes(rng() % 96, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Bias towards small lengths so some inputs hold whole frames.
    if (bytes.size() > 8 && rng() % 2 == 0) {
      bytes[0] = static_cast<char>(rng() % 80);
      bytes[5] = bytes[6] = bytes[7] = 0;
      bytes[4] = static_cast<char>(rng() % 80);
    }
    const ExactCopy input(bytes);
    absl::string_view rest = input.view();
    while (true) {
      absl::StatusOr<std::optional<Frame>> frame = codec->Decode(rest);
      if (!frame.ok()) {
        ++errors;
        EXPECT_TRUE(frame.status().code() == absl::StatusCode::kDataLoss ||
                    frame.status().code() == absl::StatusCode::kInvalidArgument)
            << frame.status();
        break;
      }
      if (!frame->has_value()) {
        ++incomplete;
        break;
      }
      ++frames;
      ASSERT_GT((*frame)->size, 0u);
      ASSERT_LE((*frame)->size, rest.size());
      ASSERT_TRUE(Within((*frame)->payload, rest.substr(0, (*frame)->size)));
      ASSERT_LE((*frame)->payload.size(), codec->max_payload_size());
      rest.remove_prefix((*frame)->size);
    }
  }
  // The loop must have exercised every outcome.
  EXPECT_GT(frames, 0);
  EXPECT_GT(errors, 0);
  EXPECT_GT(incomplete, 0);
}

TEST_P(CodecTest, MutatedFramesNeverCrashOrEscapeTheInput) {
  auto codec = Make(256);
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) {
    std::string bytes = MustEncode(*codec, static_cast<int32_t>(rng() % 1000),
                                   Payload(rng() % 200, rng()));
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
    }
    const ExactCopy input(bytes);
    absl::StatusOr<std::optional<Frame>> frame = codec->Decode(input.view());
    if (frame.ok() && frame->has_value()) {
      ASSERT_LE((*frame)->size, bytes.size());
      ASSERT_TRUE(Within((*frame)->payload, input.view()));
      ASSERT_LE((*frame)->payload.size(), codec->max_payload_size());
    }
  }
}

TEST_P(CodecTest, SharedAcrossThreads) {
  auto codec = Make();
  std::string stream;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(codec->AppendFrame(i, Payload(i), &stream).ok());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&codec, &stream] {
      for (int round = 0; round < 20; ++round) {
        std::string out;
        absl::string_view rest = stream;
        for (int i = 0; i < 100; ++i) {
          auto frame = codec->Decode(rest);
          ASSERT_TRUE(frame.ok() && frame->has_value());
          ASSERT_EQ((*frame)->type, i);
          ASSERT_TRUE(
              codec->AppendFrame((*frame)->type, (*frame)->payload, &out).ok());
          rest.remove_prefix((*frame)->size);
        }
        ASSERT_EQ(out, stream);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest,
                         testing::Values(CodecCase{"Tlv", MakeTlv},
                                         CodecCase{"Envelope", MakeEnvelope}),
                         [](const testing::TestParamInfo<CodecCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace tao
