// TlvCodec: Go tao's type-length-value framing (TypeLengthValueCodec), byte
// for byte, so C++ and Go tao peers can talk to each other.
//
// A frame is an 8-byte header followed by the payload:
//
//   byte 0    1    2    3    4    5    6    7    8
//       +----+----+----+----+----+----+----+----+---------------------+
//       |  type: int32 LE   | length: uint32 LE | payload             |
//       |  (two's compl.)   | (payload bytes)   | (length bytes)      |
//       +----+----+----+----+----+----+----+----+---------------------+
//        low            high low            high
//
// Example: type 1, payload "hello" is
//   01 00 00 00  05 00 00 00  68 65 6c 6c 6f
//
//   - type: any int32 (negative too); 0 is the heartbeat, whose payload is an
//     int64 little-endian Unix-nanosecond timestamp. Which types are known is
//     the registry's business, not the codec's.
//   - length: payload bytes. A length above max_payload_size() (8 MiB by
//     default, Go tao's MessageMaxBytes) is rejected from the 8 header bytes
//     alone with INVALID_ARGUMENT; nothing is allocated or awaited for it.
//     Lengths with the high bit set ("negative" to a Go int32 reader) are
//     simply too large.
//
// Full prose specification: codec/doc/wire_format.md.
//
// Thread safety: immutable after construction; all methods may be called
// concurrently from any thread.

#ifndef CODEC_TLV_CODEC_H_
#define CODEC_TLV_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"

namespace tao {

class TlvCodec final : public Codec {
 public:
  // Go tao's MessageMaxBytes: 8 MiB.
  static constexpr size_t kDefaultMaxPayload = 8 << 20;
  // type (4) + length (4).
  static constexpr size_t kHeaderSize = 8;

  // `max_payload_size` above UINT32_MAX (what the length field can carry) is
  // clamped to UINT32_MAX.
  explicit TlvCodec(size_t max_payload_size = kDefaultMaxPayload);

  // A process-wide codec with kDefaultMaxPayload; never destroyed.
  static const TlvCodec& Default();

  absl::string_view name() const override { return "tlv"; }
  size_t max_header_size() const override { return kHeaderSize; }

  // Always writes kHeaderSize bytes.
  absl::StatusOr<size_t> EncodeHeader(int32_t type, size_t payload_size,
                                      char* out) const override;
  absl::StatusOr<std::optional<Frame>> Decode(
      absl::string_view input) const override;
};

}  // namespace tao

#endif  // CODEC_TLV_CODEC_H_
