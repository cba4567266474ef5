#include "tao/cluster/payload.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(ClusterPayloadTest, RoundTripsOriginAndFrame) {
  absl::Cord frame("frame bytes");
  frame.Append(" from two chunks");
  const std::string bytes = EncodeClusterPayload(0x0123456789abcdefULL, frame);
  ASSERT_EQ(bytes.size(), kClusterPayloadHeaderSize + frame.size());
  absl::StatusOr<ClusterPayload> decoded = DecodeClusterPayload(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->origin, 0x0123456789abcdefULL);
  EXPECT_EQ(decoded->frame, "frame bytes from two chunks");
}

TEST(ClusterPayloadTest, OriginIsLittleEndianAfterTheVersion) {
  const std::string bytes =
      EncodeClusterPayload(0x0807060504030201ULL, absl::Cord("x"));
  EXPECT_EQ(bytes,
            absl::string_view("\x01\x01\x02\x03\x04\x05\x06\x07\x08x", 10));
}

TEST(ClusterPayloadTest, RejectsShortEmptyAndUnknownVersions) {
  EXPECT_FALSE(DecodeClusterPayload("").ok());
  EXPECT_FALSE(DecodeClusterPayload("\x01").ok());
  // A header and no frame.
  EXPECT_FALSE(
      DecodeClusterPayload(absl::string_view("\x01\0\0\0\0\0\0\0\0", 9)).ok());
  std::string other = EncodeClusterPayload(7, absl::Cord("frame"));
  other[0] = 2;
  absl::StatusOr<ClusterPayload> decoded = DecodeClusterPayload(other);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClusterPayloadTest, NeverReadsPastShortInputs) {
  // Every prefix of a valid payload, in its own buffer (ASan checks).
  const std::string bytes = EncodeClusterPayload(~uint64_t{0}, absl::Cord("f"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    EXPECT_FALSE(DecodeClusterPayload(prefix).ok()) << n;
  }
}

}  // namespace
}  // namespace tao
