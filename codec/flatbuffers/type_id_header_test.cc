#include "codec/flatbuffers/type_id_header.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<std::string> Generate(const std::string& text) {
  return TypeIdHeader({.text = text,
                       .path = "game/game.fbs",
                       .includes = {},
                       .generated_include = "game/game_generated.h"});
}

constexpr char kPrelude[] = "attribute \"tao_message_id\";\nnamespace game;\n";

TEST(TypeIdHeaderTest, SpecializesEveryTaggedTable) {
  absl::StatusOr<std::string> header =
      Generate(std::string(kPrelude) +
               "table Position (tao_message_id: \"7\") { x: float; }\n"
               "table Hit (tao_message_id: -3) { damage: int; }\n"
               "table Plain { x: int; }\n");
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_THAT(*header, HasSubstr("struct FlatBufferTypeId<::game::Position> {\n"
                                 "  static constexpr int32_t value = 7;\n"
                                 "  static constexpr const char* name = "
                                 "\"game.Position\";"));
  EXPECT_THAT(*header, HasSubstr("FlatBufferTypeId<::game::Hit> {\n"
                                 "  static constexpr int32_t value = -3;"));
  EXPECT_THAT(*header, Not(HasSubstr("Plain")));
  EXPECT_THAT(*header, HasSubstr("#include \"game/game_generated.h\""));
  EXPECT_THAT(*header,
              HasSubstr("#ifndef GAME_GAME_GENERATED_H_TAO_TYPE_IDS_"));
}

void ExpectInvalid(const std::string& tables, const std::string& why) {
  absl::StatusOr<std::string> header = Generate(kPrelude + tables);
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument)
      << tables;
  EXPECT_THAT(header.status().message(), HasSubstr(why)) << tables;
}

TEST(TypeIdHeaderTest, RejectsBadIds) {
  ExpectInvalid("table A (tao_message_id: \"seven\") { x: int; }",
                "game.A (tao_message_id: \"seven\"): not an int32");
  ExpectInvalid("table A (tao_message_id: \"4294967296\") { x: int; }",
                "not an int32");
  ExpectInvalid("table A (tao_message_id: 0) { x: int; }",
                "0 is the heartbeat type");
  ExpectInvalid("struct S (tao_message_id: 5) { x: int; }",
                "only tables have type ids");
  ExpectInvalid(
      "table A (tao_message_id: 5) { x: int; }\n"
      "table B (tao_message_id: 5) { x: int; }",
      "game.B (tao_message_id: \"5\"): id taken by game.A");
}

TEST(TypeIdHeaderTest, ReportsFlatcParseErrors) {
  // The attribute must be declared before use (flatc's rule).
  absl::StatusOr<std::string> header =
      Generate("table A (tao_message_id: 5) { x: int; }");
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.status().message(), HasSubstr("tao_message_id"));
}

}  // namespace
}  // namespace tao
