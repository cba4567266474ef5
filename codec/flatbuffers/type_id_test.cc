#include "codec/flatbuffers/type_id.h"

#include <string_view>

#include "codec/flatbuffers/test_tables_tao.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

namespace fbs = ::tao::test::fbs;

TEST(FlatBufferTypeIdTest, IdsComeFromTheSchema) {
  static_assert(FlatBufferTypeId<fbs::Position>::value == 7);
  static_assert(FlatBufferTypeId<fbs::Node>::value == 8);  // unquoted form
  EXPECT_EQ(std::string_view(FlatBufferTypeId<fbs::Position>::name),
            "tao.test.fbs.Position");
  EXPECT_EQ(std::string_view(FlatBufferTypeId<fbs::Node>::name),
            "tao.test.fbs.Node");
}

TEST(FlatBufferTypeIdTest, TablesWithoutTheAttributeHaveNone) {
  static_assert(HasFlatBufferTypeId<fbs::Position>);
  static_assert(!HasFlatBufferTypeId<fbs::Untyped>);
  static_assert(!HasFlatBufferTypeId<fbs::Vec2>);
}

}  // namespace
}  // namespace tao
