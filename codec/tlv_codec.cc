#include "codec/tlv_codec.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"

namespace tao {
namespace {

constexpr size_t kMaxLengthField = std::numeric_limits<uint32_t>::max();

// The wire is little-endian; one load or store on a little-endian host.
void PutUint32LE(uint32_t v, char* out) {
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap32(v);
  }
  std::memcpy(out, &v, sizeof(v));
}

uint32_t GetUint32LE(const char* in) {
  uint32_t v;
  std::memcpy(&v, in, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap32(v);
  }
  return v;
}

// Out of line: building the message must not cost the hot path a stack
// frame.
ABSL_ATTRIBUTE_NOINLINE absl::Status TooLong(size_t length, size_t max) {
  return absl::InvalidArgumentError(
      absl::StrCat("frame length ", length, " exceeds the maximum ", max));
}

}  // namespace

TlvCodec::TlvCodec(size_t max_payload_size)
    : Codec(std::min(max_payload_size, kMaxLengthField)) {}

const TlvCodec& TlvCodec::Default() {
  static const TlvCodec* const codec = new TlvCodec();  // never destroyed
  return *codec;
}

absl::StatusOr<size_t> TlvCodec::EncodeHeader(int32_t type, size_t payload_size,
                                              char* out) const {
  if (payload_size > max_payload_size()) {
    return TooLong(payload_size, max_payload_size());
  }
  PutUint32LE(static_cast<uint32_t>(type), out);
  PutUint32LE(static_cast<uint32_t>(payload_size), out + 4);
  return kHeaderSize;
}

absl::StatusOr<std::optional<Frame>> TlvCodec::Decode(
    absl::string_view input) const {
  if (input.size() < kHeaderSize) return std::nullopt;
  const uint32_t length = GetUint32LE(input.data() + 4);
  if (length > max_payload_size()) return TooLong(length, max_payload_size());
  // kHeaderSize + length cannot overflow: length <= UINT32_MAX.
  const size_t size = kHeaderSize + size_t{length};
  if (input.size() < size) return std::nullopt;
  Frame frame;
  frame.type = static_cast<int32_t>(GetUint32LE(input.data()));
  frame.payload = input.substr(kHeaderSize, length);
  frame.size = size;
  return frame;
}

}  // namespace tao
