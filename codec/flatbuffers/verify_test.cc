#include "codec/flatbuffers/verify.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/flatbuffers/test_tables_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

namespace fbs = ::tao::test::fbs;
using ::testing::HasSubstr;

std::string PositionBytes() {
  flatbuffers::FlatBufferBuilder builder;
  auto name = builder.CreateString("player-one");
  auto tags = builder.CreateVectorOfStrings({"red", "fast"});
  fbs::Vec2 at(1.5f, -2.0f);
  builder.Finish(fbs::CreatePosition(builder, 42, &at, name, tags));
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                     builder.GetSize());
}

// A chain of `depth` Nodes (each the child of the next).
std::string NodeChain(int depth) {
  flatbuffers::FlatBufferBuilder builder;
  flatbuffers::Offset<fbs::Node> node;
  for (int i = 0; i < depth; ++i) node = fbs::CreateNode(builder, node, i);
  builder.Finish(node);
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                     builder.GetSize());
}

absl::StatusOr<const fbs::Position*> VerifyPosition(
    absl::string_view bytes, const FlatBufferLimits& limits = {}) {
  return VerifyFlatBuffer<fbs::Position>(bytes, limits,
                                         "tao.test.fbs.Position");
}

// Reads every field, so that ASan sees any read a bad "verified" buffer
// would make out of bounds.
size_t Touch(const fbs::Position& p) {
  size_t sum = p.entity();
  if (p.at() != nullptr) sum += static_cast<size_t>(p.at()->x());
  if (p.name() != nullptr) sum += std::string(p.name()->str()).size();
  if (p.tags() != nullptr) {
    for (const flatbuffers::String* tag : *p.tags()) sum += tag->size();
  }
  return sum;
}

TEST(VerifyFlatBufferTest, AcceptsAValidBuffer) {
  const std::string bytes = PositionBytes();
  absl::StatusOr<const fbs::Position*> p = VerifyPosition(bytes);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->entity(), 42u);
  EXPECT_EQ((*p)->at()->y(), -2.0f);
  EXPECT_EQ((*p)->name()->str(), "player-one");
  ASSERT_EQ((*p)->tags()->size(), 2u);
  EXPECT_EQ((*p)->tags()->Get(1)->str(), "fast");
}

TEST(VerifyFlatBufferTest, CopiesAMisalignedBufferBeforeReadingIt) {
  const std::string bytes = PositionBytes();
  std::string shifted = "x" + bytes;  // data() + 1 is misaligned
  absl::string_view view = absl::string_view(shifted).substr(1);
  absl::StatusOr<const fbs::Position*> p = VerifyPosition(view);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*p) % 4, 0u);
  EXPECT_EQ((*p)->name()->str(), "player-one");
}

TEST(VerifyFlatBufferTest, RejectsEmptyAndTruncatedBuffers) {
  const std::string bytes = PositionBytes();
  // The buffer ends with the first string built, then up to 3 bytes of
  // alignment padding; cutting only padding leaves a valid buffer.
  for (size_t size = 0; size < bytes.size(); ++size) {
    // A copy of exactly `size` bytes, so ASan flags any read past it.
    const std::string prefix = bytes.substr(0, size);
    absl::StatusOr<const fbs::Position*> p = VerifyPosition(prefix);
    if (size + 3 < bytes.size()) {
      EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss) << size;
    } else if (p.ok()) {
      Touch(**p);
    }
  }
}

TEST(VerifyFlatBufferTest, NamesTheTableAndTheLimits) {
  absl::StatusOr<const fbs::Position*> p = VerifyPosition("garbage!");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(p.status().message(), HasSubstr("tao.test.fbs.Position"));
  EXPECT_THAT(p.status().message(), HasSubstr("max_depth 64"));
}

TEST(VerifyFlatBufferTest, RejectsOffsetsOutsideTheBuffer) {
  std::string bytes = PositionBytes();
  const uint32_t far = 0xfffffff0u;  // the root offset, little-endian
  std::memcpy(bytes.data(), &far, sizeof(far));
  EXPECT_EQ(VerifyPosition(bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(VerifyFlatBufferTest, CorruptBytesNeverYieldAnUnsafeTable) {
  const std::string original = PositionBytes();
  int rejected = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t value : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x7f},
                          static_cast<uint8_t>(original[i] ^ 0x80)}) {
      std::string bytes = original;
      bytes[i] = static_cast<char>(value);
      absl::StatusOr<const fbs::Position*> p = VerifyPosition(bytes);
      if (p.ok()) {
        Touch(**p);  // accepted: every read stays inside the buffer
      } else {
        EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(VerifyFlatBufferTest, RejectsBuffersOverMaxBytes) {
  const std::string bytes = PositionBytes();
  FlatBufferLimits limits;
  limits.max_bytes = bytes.size() - 1;
  absl::StatusOr<const fbs::Position*> p = VerifyPosition(bytes, limits);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(p.status().message(), HasSubstr("larger than max_bytes"));
  limits.max_bytes = bytes.size();
  EXPECT_TRUE(VerifyPosition(bytes, limits).ok());
}

TEST(VerifyFlatBufferTest, RejectsAStringLongerThanTheBuffer) {
  flatbuffers::FlatBufferBuilder builder;
  auto name = builder.CreateString("abcd");
  builder.Finish(fbs::CreatePosition(builder, 1, nullptr, name));
  std::string bytes(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                    builder.GetSize());
  // The string's uint32 length prefix sits right before "abcd".
  const size_t at = bytes.find("abcd") - sizeof(uint32_t);
  const uint32_t huge = 0x7ffffff0u;
  std::memcpy(bytes.data() + at, &huge, sizeof(huge));
  EXPECT_EQ(VerifyPosition(bytes).status().code(), absl::StatusCode::kDataLoss);
}

absl::Status VerifyNodes(const std::string& bytes,
                         const FlatBufferLimits& limits) {
  return VerifyFlatBuffer<fbs::Node>(bytes, limits, "tao.test.fbs.Node")
      .status();
}

TEST(VerifyFlatBufferTest, EnforcesTheDepthLimit) {
  const std::string deep = NodeChain(100);
  FlatBufferLimits limits;
  EXPECT_EQ(VerifyNodes(deep, limits).code(), absl::StatusCode::kDataLoss);
  limits.max_depth = 128;
  EXPECT_TRUE(VerifyNodes(deep, limits).ok());
}

TEST(VerifyFlatBufferTest, AVeryDeepBufferIsRejectedWithoutExhaustingTheStack) {
  EXPECT_EQ(VerifyNodes(NodeChain(100000), FlatBufferLimits()).code(),
            absl::StatusCode::kDataLoss);
}

TEST(VerifyFlatBufferTest, EnforcesTheTableLimit) {
  const std::string nodes = NodeChain(20);
  FlatBufferLimits limits;
  limits.max_tables = 10;
  EXPECT_EQ(VerifyNodes(nodes, limits).code(), absl::StatusCode::kDataLoss);
  limits.max_tables = 20;
  EXPECT_TRUE(VerifyNodes(nodes, limits).ok());
}

TEST(CheckLimitsTest, RejectsLimitsThatVerifyNothing) {
  using flatbuffers_internal::CheckLimits;
  EXPECT_TRUE(CheckLimits(FlatBufferLimits()).ok());
  EXPECT_EQ(CheckLimits({.max_bytes = 0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckLimits({.max_depth = 0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckLimits({.max_tables = 0}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tao
