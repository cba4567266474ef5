// EnvelopeCodec: frames as varint-length-delimited tao.Envelope messages
// (codec/proto/envelope.proto), the stream format every protobuf library
// reads and writes with its "delimited" helpers.
//
// A frame is varint(N) followed by N bytes of a serialized Envelope:
//
//   +-----------+---------------------- N bytes ----------------------+
//   | varint(N) | 08 varint(type_id) | 12 varint(len) | payload (len) |
//   +-----------+-----------------------------------------------------+
//                 field 1, omitted     field 2, omitted
//                 when type_id == 0    when len == 0 (proto3 defaults)
//
// Example: type 1, payload "hello" is
//   09  08 01  12 05  68 65 6c 6c 6f
//
// Encoding writes exactly what protobuf's SerializeDelimitedToOstream writes
// for Envelope{type_id, payload}: EncodeHeader emits varint(N) and both tags
// so that the payload follows raw, and a peer parses the frame with
// ParseDelimitedFromZeroCopyStream. Negative types cannot be represented
// (type_id is a uint32 that tao keeps within int32): INVALID_ARGUMENT.
//
// Decoding parses the Envelope by hand and returns the payload as a view into
// the input, without copying. Like protobuf it accepts fields in any order,
// skips unknown fields by wire type, and lets the last occurrence of a
// duplicated field win (a type_id varint is truncated to 32 bits, as protobuf
// does for uint32). Errors:
//   - N > max_payload_size() + kMaxEnvelopeOverhead: INVALID_ARGUMENT, as soon
//     as the varint (or even a prefix of it) shows it, before the body arrives;
//   - a payload longer than max_payload_size(): INVALID_ARGUMENT;
//   - malformed bytes: DATA_LOSS. That is a varint longer than 10 bytes or
//     above 64 bits, field number 0, a group or wire type 6/7, a field that
//     runs past N, or a type_id above INT32_MAX.
//
// Full prose specification: codec/doc/wire_format.md.
//
// Thread safety: immutable after construction; all methods may be called
// concurrently from any thread.

#ifndef CODEC_ENVELOPE_CODEC_H_
#define CODEC_ENVELOPE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"

namespace tao {

class EnvelopeCodec final : public Codec {
 public:
  // The same 8 MiB default as the TLV framing.
  static constexpr size_t kDefaultMaxPayload = 8 << 20;
  // varint(N) (5) + tag (1) + varint(type_id) (5) + tag (1) + varint(len) (5).
  static constexpr size_t kMaxHeaderSize = 17;
  // How much larger than max_payload_size() an Envelope (N) may be: room for
  // the two fields' tags and varints plus a few unknown fields.
  static constexpr size_t kMaxEnvelopeOverhead = 32;
  // Protobuf messages stay below 2 GiB; larger max_payload_size arguments are
  // clamped to this.
  static constexpr size_t kMaxSupportedPayload =
      size_t{0x7fffffff} - 2 * kMaxEnvelopeOverhead;

  explicit EnvelopeCodec(size_t max_payload_size = kDefaultMaxPayload);

  // A process-wide codec with kDefaultMaxPayload; never destroyed.
  static const EnvelopeCodec& Default();

  absl::string_view name() const override { return "envelope"; }
  size_t max_header_size() const override { return kMaxHeaderSize; }

  absl::StatusOr<size_t> EncodeHeader(int32_t type, size_t payload_size,
                                      char* out) const override;
  absl::StatusOr<std::optional<Frame>> Decode(
      absl::string_view input) const override;
};

}  // namespace tao

#endif  // CODEC_ENVELOPE_CODEC_H_
