#include "codec/flatbuffers/verify.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tao::flatbuffers_internal {

absl::string_view Aligned(absl::string_view bytes) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % kBufferAlignment == 0) {
    return bytes;
  }
  // uint64_t elements: the vector's storage is 8-byte aligned.
  static_assert(alignof(uint64_t) >= kBufferAlignment);
  thread_local std::vector<uint64_t> copy;
  copy.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
  if (!bytes.empty()) std::memcpy(copy.data(), bytes.data(), bytes.size());
  return absl::string_view(reinterpret_cast<const char*>(copy.data()),
                           bytes.size());
}

absl::Status CheckLimits(const FlatBufferLimits& limits) {
  if (limits.max_bytes == 0 ||
      limits.max_bytes >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return absl::InvalidArgumentError(
        absl::StrCat("FlatBufferLimits.max_bytes must be in [1, ",
                     FLATBUFFERS_MAX_BUFFER_SIZE, "), got ", limits.max_bytes));
  }
  if (limits.max_depth == 0 || limits.max_tables == 0) {
    return absl::InvalidArgumentError(
        "FlatBufferLimits.max_depth and max_tables must be positive");
  }
  return absl::OkStatus();
}

absl::Status Rejected(absl::string_view table_name, size_t size,
                      const FlatBufferLimits& limits, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("FlatBuffer of ", table_name, " (", size, " bytes) ", why,
                   "; limits: max_bytes ", limits.max_bytes, ", max_depth ",
                   limits.max_depth, ", max_tables ", limits.max_tables));
}

}  // namespace tao::flatbuffers_internal
