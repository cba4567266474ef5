// FlatBufferTypeId<Table>: the tao frame type of a FlatBuffers table, the
// counterpart of a protobuf message's `option (tao.message_id) = N;`.
//
// The id is declared once, in the .fbs file, as a table attribute:
//
//   attribute "tao_message_id";
//   namespace game;
//   table Position (tao_message_id: "7") { x: float; y: float; }
//
// and tao_flatbuffers_library (codec/flatbuffers/defs.bzl) generates the
// specialization into <schema>_tao.h:
//
//   static_assert(tao::FlatBufferTypeId<game::Position>::value == 7);
//   tao::FlatBufferTypeId<game::Position>::name  // "game.Position"
//
// A table without the attribute has no specialization, so using it where a
// type id is needed fails to compile (see HasFlatBufferTypeId).
//
// Thread safety: compile-time constants only.
#ifndef CODEC_FLATBUFFERS_TYPE_ID_H_
#define CODEC_FLATBUFFERS_TYPE_ID_H_

#include <concepts>
#include <cstdint>

namespace tao {

// Specialized by the generated <schema>_tao.h, one per table carrying a
// tao_message_id attribute, with
//   static constexpr int32_t value;     // never 0 (the heartbeat type)
//   static constexpr const char* name;  // the table's full name
template <typename Table>
struct FlatBufferTypeId;

// Whether `Table` has a tao type id (its schema gave it tao_message_id).
template <typename Table>
concept HasFlatBufferTypeId = requires {
  { FlatBufferTypeId<Table>::value } -> std::convertible_to<int32_t>;
  { FlatBufferTypeId<Table>::name } -> std::convertible_to<const char*>;
};

}  // namespace tao

#endif  // CODEC_FLATBUFFERS_TYPE_ID_H_
