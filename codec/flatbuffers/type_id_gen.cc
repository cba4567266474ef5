// type_id_gen: writes the FlatBufferTypeId header of one .fbs schema (see
// type_id_header.h); run by tao_flatbuffers_library at build time.
//   type_id_gen SCHEMA.fbs OUT.h GENERATED_INCLUDE [INCLUDE_DIR...]
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "codec/flatbuffers/type_id_header.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s SCHEMA.fbs OUT.h GENERATED_INCLUDE "
                 "[INCLUDE_DIR...]\n",
                 argv[0]);
    return 2;
  }
  tao::TypeIdSchema schema;
  schema.path = argv[1];
  schema.generated_include = argv[3];
  for (int i = 4; i < argc; ++i) schema.includes.push_back(argv[i]);
  std::ifstream in(schema.path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "type_id_gen: cannot read %s\n", argv[1]);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  schema.text = text.str();
  absl::StatusOr<std::string> header = tao::TypeIdHeader(schema);
  if (!header.ok()) {
    std::fprintf(stderr, "type_id_gen: %s\n",
                 std::string(header.status().message()).c_str());
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << *header;
  if (!out.flush()) {
    std::fprintf(stderr, "type_id_gen: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
