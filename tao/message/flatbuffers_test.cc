#include "tao/message/flatbuffers.h"

#include <string>

#include "absl/status/status.h"
#include "codec/flatbuffers/test_tables_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/registry.h"
#include "tao/testing/detached_connection.h"

namespace tao {
namespace {

namespace fbs = ::tao::test::fbs;
using ::testing::HasSubstr;

std::string PositionBytes(uint64_t entity) {
  flatbuffers::FlatBufferBuilder builder;
  auto name = builder.CreateString("p");
  fbs::Vec2 at(3.0f, 4.0f);
  builder.Finish(fbs::CreatePosition(builder, entity, &at, name));
  return std::string(FlatBufferBytes(builder));
}

std::string NodeChain(int depth) {
  flatbuffers::FlatBufferBuilder builder;
  flatbuffers::Offset<fbs::Node> node;
  for (int i = 0; i < depth; ++i) node = fbs::CreateNode(builder, node, i);
  builder.Finish(node);
  return std::string(FlatBufferBytes(builder));
}

class RegisterFlatBufferTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(detached_.ok()); }

  absl::Status Dispatch(int32_t type, absl::string_view payload) {
    Context ctx = detached_.MakeContext(type);
    return registry_.Dispatch(ctx, type, payload);
  }

  testing::DetachedConnection detached_;
  Registry registry_;
};

TEST_F(RegisterFlatBufferTest, TakesTheIdAndNameFromTheSchema) {
  ASSERT_TRUE(
      RegisterFlatBuffer<fbs::Position>(registry_, [](Context&,
                                                      const fbs::Position&) {
      }).ok());
  EXPECT_TRUE(registry_.Contains(7));
  EXPECT_EQ(registry_.TypeName(7), "tao.test.fbs.Position");
}

TEST_F(RegisterFlatBufferTest, HandlerSeesTheVerifiedTable) {
  uint64_t seen = 0;
  ASSERT_TRUE(
      RegisterFlatBuffer<fbs::Position>(registry_, [&](Context& ctx,
                                                       const fbs::Position& p) {
        EXPECT_EQ(ctx.type(), 7);
        EXPECT_EQ(p.at()->y(), 4.0f);
        seen = p.entity();
      }).ok());
  ASSERT_TRUE(Dispatch(7, PositionBytes(99)).ok());
  EXPECT_EQ(seen, 99u);
}

TEST_F(RegisterFlatBufferTest, ABadBufferIsDataLossAndNeverReachesTheHandler) {
  int calls = 0;
  ASSERT_TRUE(
      RegisterFlatBuffer<fbs::Position>(registry_, [&](Context&,
                                                       const fbs::Position&) {
        ++calls;
      }).ok());
  const std::string good = PositionBytes(1);
  for (const std::string& bad :
       {std::string(), std::string("\xff\xff\xff\x7f", 4),
        good.substr(0, good.size() / 2)}) {
    absl::Status s = Dispatch(7, bad);
    EXPECT_TRUE(absl::IsDataLoss(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr("tao.test.fbs.Position"));
  }
  EXPECT_EQ(calls, 0);
}

TEST_F(RegisterFlatBufferTest, LimitsAreChosenAtRegistration) {
  int calls = 0;
  ASSERT_TRUE(RegisterFlatBuffer<fbs::Node>(
                  registry_, [&](Context&, const fbs::Node&) { ++calls; },
                  {.max_bytes = 4096, .max_depth = 8, .max_tables = 100})
                  .ok());
  EXPECT_TRUE(Dispatch(8, NodeChain(5)).ok());
  absl::Status deep = Dispatch(8, NodeChain(20));
  EXPECT_TRUE(absl::IsDataLoss(deep)) << deep;
  EXPECT_THAT(deep.message(), HasSubstr("max_depth 8"));
  EXPECT_TRUE(absl::IsDataLoss(Dispatch(8, std::string(5000, '\0'))));
  EXPECT_EQ(calls, 1);
}

TEST_F(RegisterFlatBufferTest, RejectsBadRegistrations) {
  EXPECT_TRUE(absl::IsInvalidArgument(RegisterFlatBuffer<fbs::Position>(
      registry_, FlatBufferHandler<fbs::Position>())));
  EXPECT_TRUE(absl::IsInvalidArgument(RegisterFlatBuffer<fbs::Position>(
      registry_, [](Context&, const fbs::Position&) {}, {.max_depth = 0})));
  ASSERT_TRUE(
      registry_.RegisterRaw(7, [](Context&, absl::string_view) {}).ok());
  absl::Status taken = RegisterFlatBuffer<fbs::Position>(
      registry_, [](Context&, const fbs::Position&) {});
  EXPECT_TRUE(absl::IsAlreadyExists(taken)) << taken;
  EXPECT_EQ(registry_.size(), 1u);
}

}  // namespace
}  // namespace tao
