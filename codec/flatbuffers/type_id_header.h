// TypeIdHeader: the C++ header that gives each FlatBuffers table carrying
// `tao_message_id: "N"` in a schema its FlatBufferTypeId<Table>
// specialization (codec/flatbuffers/type_id.h). The schema is read with
// flatc's own parser (flatbuffers/idl.h), so namespaces, includes and
// attribute syntax mean exactly what they mean to flatc.
//
// Used at build time by //codec/flatbuffers:type_id_gen (the tool behind
// tao_flatbuffers_library); it is never linked into a server.
//
// Thread safety: a pure function; may be called from any thread.
#ifndef CODEC_FLATBUFFERS_TYPE_ID_HEADER_H_
#define CODEC_FLATBUFFERS_TYPE_ID_HEADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tao {

// The schema attribute holding a table's tao type id.
inline constexpr char kTypeIdAttribute[] = "tao_message_id";

struct TypeIdSchema {
  std::string text;                   // the .fbs source
  std::string path;                   // its path, as flatc is given it
  std::vector<std::string> includes;  // directories for `include "..."`
  // The workspace-relative flatc output the header includes
  // ("game/position_generated.h").
  std::string generated_include;
};

// The header text. INVALID_ARGUMENT when the schema does not parse, or a
// tao_message_id is not an int32, is 0 (the heartbeat), sits on a struct,
// or is used twice in the schema. Tables of included schemas are left to
// their own headers.
absl::StatusOr<std::string> TypeIdHeader(const TypeIdSchema& schema);

}  // namespace tao

#endif  // CODEC_FLATBUFFERS_TYPE_ID_HEADER_H_
