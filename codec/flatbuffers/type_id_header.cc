#include "codec/flatbuffers/type_id_header.h"

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "flatbuffers/idl.h"

namespace tao {
namespace {

std::string HeaderGuard(const std::string& generated_include) {
  std::string guard;
  for (char c : generated_include) {
    guard += absl::ascii_isalnum(static_cast<unsigned char>(c))
                 ? absl::ascii_toupper(static_cast<unsigned char>(c))
                 : '_';
  }
  return guard + "_TAO_TYPE_IDS_";
}

}  // namespace

absl::StatusOr<std::string> TypeIdHeader(const TypeIdSchema& schema) {
  flatbuffers::IDLOptions options;
  flatbuffers::Parser parser(options);
  std::vector<const char*> includes;
  for (const std::string& dir : schema.includes)
    includes.push_back(dir.c_str());
  includes.push_back(nullptr);
  if (!parser.Parse(schema.text.c_str(), includes.data(),
                    schema.path.c_str())) {
    return absl::InvalidArgumentError(parser.error_);
  }

  std::string specializations;
  absl::flat_hash_map<int32_t, std::string> taken;  // id -> full name
  for (const flatbuffers::StructDef* def : parser.structs_.vec) {
    if (def->file != schema.path) continue;  // an included schema's
    const flatbuffers::Value* attribute =
        def->attributes.Lookup(kTypeIdAttribute);
    if (attribute == nullptr) continue;
    const std::string full_name =
        def->defined_namespace->GetFullyQualifiedName(def->name);
    auto error = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(schema.path, ": ", full_name, " (", kTypeIdAttribute,
                       ": \"", attribute->constant, "\"): ", why));
    };
    if (def->fixed) return error("only tables have type ids, not structs");
    int32_t id = 0;
    if (!absl::SimpleAtoi(attribute->constant, &id)) {
      return error("not an int32");
    }
    if (id == 0) return error("0 is the heartbeat type");
    auto [it, inserted] = taken.try_emplace(id, full_name);
    if (!inserted) return error(absl::StrCat("id taken by ", it->second));
    absl::StrAppend(&specializations, "template <>\nstruct FlatBufferTypeId<::",
                    absl::StrReplaceAll(full_name, {{".", "::"}}),
                    "> {\n  static constexpr int32_t value = ", id,
                    ";\n  static constexpr const char* name = \"", full_name,
                    "\";\n};\n\n");
  }

  const std::string guard = HeaderGuard(schema.generated_include);
  return absl::StrCat(
      "// Generated from ", schema.path,
      " by tao_flatbuffers_library; do not edit.\n"
      "// Type ids of its tables: codec/flatbuffers/type_id.h.\n#ifndef ",
      guard, "\n#define ", guard,
      "\n\n#include <cstdint>\n\n#include \"codec/flatbuffers/type_id.h\"\n"
      "#include \"",
      schema.generated_include, "\"\n\nnamespace tao {\n\n", specializations,
      "}  // namespace tao\n\n#endif  // ", guard, "\n");
}

}  // namespace tao
