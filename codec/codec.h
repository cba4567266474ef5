// Codec: the framing interface. A codec turns (type, payload) pairs into bytes
// on a stream and finds frame boundaries in received bytes. It knows nothing
// about protobuf or connections: codec/frame_encoder.h adds messages on top,
// and a connection calls Decode on its input buffer.
//
// Implementations:
//   TlvCodec       codec/tlv_codec.h       Go tao's type-length-value framing
//   EnvelopeCodec  codec/envelope_codec.h  varint-delimited tao.Envelope
// Both are specified in codec/doc/wire_format.md.
//
// Decoding loop of a connection (`in` is its input buffer):
//
//   for (;;) {
//     auto frame = codec.Decode(in.view());  // StatusOr<optional<Frame>>
//     if (!frame.ok()) return Close(frame.status());  // protocol error
//     if (!frame->has_value()) break;                 // wait for more bytes
//     Dispatch((*frame)->type, (*frame)->payload);
//     in.Retrieve((*frame)->size);
//   }
//
// Encoding: AppendFrame(type, payload, &out), or EncodeHeader into reserved
// space followed by the payload (codec/frame_encoder.h does that for protobuf
// messages without an intermediate copy).
//
// This is a public header file; it includes only public headers.

#ifndef CODEC_CODEC_H_
#define CODEC_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/base/cxx20.h"

namespace tao {

// Type 0 is the heartbeat on every framing (Go tao's HeartBeatMessage: an
// int64 little-endian Unix-nanosecond timestamp).
inline constexpr int32_t kHeartbeatType = 0;

// One decoded frame. `payload` points into the input given to Decode and is
// valid as long as those bytes are.
struct Frame {
  int32_t type = 0;
  absl::string_view payload;  // points into the decoded input
  size_t size = 0;  // header + payload: bytes to consume after handling
};

// A framing: how (type, payload) pairs become bytes on a stream and back.
//
// Thread safety: implementations are immutable after construction and
// thread-safe; every method is const and may be called from any thread
// concurrently. One codec instance is normally shared by all connections.
//
// Robustness: Decode treats its input as untrusted. It never reads outside
// the given view, never allocates according to a length it read, and reports
// bytes that can never become a valid frame as an error instead of waiting
// for more.
class Codec {
 public:
  virtual ~Codec() = default;

  // Short lowercase name of the framing: "tlv", "envelope".
  virtual absl::string_view name() const = 0;

  // Upper bound of EncodeHeader's output, in bytes.
  virtual size_t max_header_size() const = 0;

  // The largest payload EncodeHeader accepts and Decode lets through.
  size_t max_payload_size() const { return max_payload_size_; }

  // Writes the header of a frame of `type` whose payload has `payload_size`
  // bytes to `out`, and returns the header's length; the payload follows the
  // header byte for byte. REQUIRES: `out` has room for max_header_size()
  // bytes.
  //
  // INVALID_ARGUMENT if payload_size > max_payload_size() or `type` cannot be
  // represented by this framing (e.g. a negative type in the envelope codec).
  virtual absl::StatusOr<size_t> EncodeHeader(int32_t type, size_t payload_size,
                                              char* out) const = 0;

  // Looks at the front of `input`:
  //   - a whole frame                     -> the Frame (consume frame.size
  //   bytes)
  //   - a prefix of a frame (incl. empty) -> std::nullopt (wait for more bytes)
  //   - bytes that can never start a valid frame -> an error:
  //       INVALID_ARGUMENT "frame length N exceeds the maximum M", decided from
  //       the header alone, before the payload arrives;
  //       DATA_LOSS for malformed bytes.
  // Never reads past `input`; bytes after the first frame are not looked at.
  virtual absl::StatusOr<std::optional<Frame>> Decode(
      absl::string_view input) const = 0;

  // Appends header + payload to *out. On error *out is unchanged.
  absl::Status AppendFrame(int32_t type, absl::string_view payload,
                           std::string* out) const;

 protected:
  explicit Codec(size_t max_payload_size)
      : max_payload_size_(max_payload_size) {}

 private:
  size_t max_payload_size_;  // never changes after construction
};

}  // namespace tao

#endif  // CODEC_CODEC_H_
