// VerifyFlatBuffer<Table>: the one way bytes from the network become a
// FlatBuffers table tao hands to a handler. Every offset, vector length,
// string and nested table is checked by flatbuffers::Verifier, within a
// size, depth and table-count budget, before anything reads the buffer.
//
//   absl::StatusOr<const game::Position*> p =
//       tao::VerifyFlatBuffer<game::Position>(payload, limits);
//
// Invariant: an OK result points into `bytes` when `bytes` is suitably
// aligned, else into a per-thread aligned copy; either way it is valid
// until the next VerifyFlatBuffer call on the same thread or until `bytes`
// dies, whichever comes first. Handlers therefore must not keep the table.
//
// Thread safety: may be called from any thread concurrently.
#ifndef CODEC_FLATBUFFERS_VERIFY_H_
#define CODEC_FLATBUFFERS_VERIFY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "flatbuffers/flatbuffers.h"

namespace tao {

// The verification budget of one buffer; a buffer over any of them is
// rejected as if it were corrupt.
struct FlatBufferLimits {
  // Largest accepted buffer (the frame's payload), in bytes.
  size_t max_bytes = 1 << 20;
  // Deepest nesting of tables/vectors (a recursive table nested deeper is
  // rejected before the verifier's recursion can exhaust the stack).
  uint32_t max_depth = 64;
  // Most tables in one buffer (bounds verification time).
  uint32_t max_tables = 100000;
};

namespace flatbuffers_internal {

// FlatBuffers scalars are at most 8 bytes, and the Verifier checks each
// one's alignment relative to the buffer's start; a start aligned to this
// makes every verified read aligned in memory too.
inline constexpr size_t kBufferAlignment = 8;

// `bytes` if its start is kBufferAlignment-aligned, else a copy of it in a
// per-thread aligned buffer (reused across calls, so it rarely allocates).
absl::string_view Aligned(absl::string_view bytes);

// INVALID_ARGUMENT for limits that cannot verify anything.
absl::Status CheckLimits(const FlatBufferLimits& limits);

// The DATA_LOSS for a rejected buffer of table `table_name`.
absl::Status Rejected(absl::string_view table_name, size_t size,
                      const FlatBufferLimits& limits, absl::string_view why);

}  // namespace flatbuffers_internal

// The verified root table of `bytes`; DATA_LOSS (naming `table_name`) for a
// buffer that is too large, truncated, corrupt or beyond the limits.
template <typename Table>
absl::StatusOr<const Table*> VerifyFlatBuffer(absl::string_view bytes,
                                              const FlatBufferLimits& limits,
                                              absl::string_view table_name) {
  if (bytes.size() > limits.max_bytes ||
      bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return flatbuffers_internal::Rejected(table_name, bytes.size(), limits,
                                          "larger than max_bytes");
  }
  const absl::string_view aligned = flatbuffers_internal::Aligned(bytes);
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier::Options options;
  options.max_depth = limits.max_depth;
  options.max_tables = limits.max_tables;
  options.check_alignment = true;
  options.check_nested_flatbuffers = true;
  flatbuffers::Verifier verifier(data, aligned.size(), options);
  if (!verifier.VerifyBuffer<Table>(nullptr)) {
    return flatbuffers_internal::Rejected(
        table_name, bytes.size(), limits,
        "fails verification (truncated, corrupt, too deep or too many "
        "tables)");
  }
  return flatbuffers::GetRoot<Table>(data);
}

}  // namespace tao

#endif  // CODEC_FLATBUFFERS_VERIFY_H_
