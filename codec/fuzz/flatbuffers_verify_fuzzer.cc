// Fuzzes VerifyFlatBuffer (codec/flatbuffers/verify.h), the gate every
// received FlatBuffers payload passes, with arbitrary bytes: as a Position
// (strings, a vector of strings, a struct) and as a recursive Node, with
// the default limits and tight ones, from an aligned and a misaligned
// start. Whatever it accepts is read field by field, so ASan catches any
// read outside the input that verification let through.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "codec/flatbuffers/test_tables_tao.h"
#include "codec/flatbuffers/verify.h"
#include "tao/testing/fuzz.h"

namespace {

namespace fbs = ::tao::test::fbs;

size_t Touch(const fbs::Position& p) {
  size_t sum = p.entity();
  if (p.at() != nullptr) sum += static_cast<size_t>(p.at()->x() != 0);
  if (p.name() != nullptr) sum += std::string(p.name()->str()).size();
  if (p.tags() != nullptr) {
    for (const flatbuffers::String* tag : *p.tags()) sum += tag->str().size();
  }
  return sum;
}

size_t Touch(const fbs::Node& node) {
  size_t depth = 0;
  for (const fbs::Node* n = &node; n != nullptr; n = n->child()) {
    depth += static_cast<size_t>(n->value() != 0) + 1;
  }
  return depth;
}

template <typename Table>
void Check(absl::string_view bytes, const tao::FlatBufferLimits& limits) {
  absl::StatusOr<const Table*> table =
      tao::VerifyFlatBuffer<Table>(bytes, limits, "fuzzed");
  if (table.ok()) {
    TAO_FUZZ_CHECK(*table != nullptr, "an OK result is a table");
    (void)Touch(**table);
  } else {
    TAO_FUZZ_CHECK(absl::IsDataLoss(table.status()), table.status().ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy: ASan flags any read past its end.
  const std::string aligned(reinterpret_cast<const char*>(data), size);
  const std::string shifted = "x" + aligned;
  const tao::FlatBufferLimits tight{
      .max_bytes = 256, .max_depth = 4, .max_tables = 8};
  for (absl::string_view bytes :
       {absl::string_view(aligned), absl::string_view(shifted).substr(1)}) {
    for (const tao::FlatBufferLimits& limits :
         {tao::FlatBufferLimits(), tight}) {
      Check<fbs::Position>(bytes, limits);
      Check<fbs::Node>(bytes, limits);
    }
  }
  return 0;
}
