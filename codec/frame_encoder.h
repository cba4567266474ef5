// Frame encoding for protobuf messages: header from a Codec, payload
// serialized straight into the output, with no intermediate copy.
//
//   std::string out;
//   TAO_RETURN_IF_ERROR(tao::AppendMessageFrame(codec, chat, &out));
//
//   // A broadcast encodes once and shares the bytes across connections:
//   TAO_ASSIGN_OR_RETURN(absl::Cord frame, tao::EncodeMessageFrame(codec,
//   msg));
//
// The frame type of a message comes from its (tao.message_id) option
// (codec/message_id.h) unless given explicitly.
//
// Thread-safe: these functions may be called from any thread; `message` must
// not be modified concurrently (its cached sizes are used).

#ifndef CODEC_FRAME_ENCODER_H_
#define CODEC_FRAME_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "google/protobuf/message.h"
#include "google/protobuf/message_lite.h"

namespace tao {

// Appends one frame of `type` carrying `message` to *out without intermediate
// copies: the header via codec.EncodeHeader, then SerializeWithCachedSizes
// ToArray into the grown string. On error *out is unchanged. Errors:
// INVALID_ARGUMENT (too large for the codec, or a type the codec cannot
// represent), INTERNAL (serialization failed, e.g. missing required fields).
absl::Status AppendMessageFrame(const Codec& codec,
                                const google::protobuf::MessageLite& message,
                                int32_t type, std::string* out);

// As above with the type from the message's (tao.message_id) option; also
// NOT_FOUND if the message type has none.
absl::Status AppendMessageFrame(const Codec& codec,
                                const google::protobuf::Message& message,
                                std::string* out);

// The same frame as a Cord (for a broadcast that shares one encoding across
// connections).
absl::StatusOr<absl::Cord> EncodeMessageFrame(
    const Codec& codec, const google::protobuf::Message& message);

// A frame of `type` carrying `payload` as a Cord. INVALID_ARGUMENT as
// Codec::EncodeHeader.
absl::StatusOr<absl::Cord> EncodeRawFrame(const Codec& codec, int32_t type,
                                          absl::string_view payload);

}  // namespace tao

#endif  // CODEC_FRAME_ENCODER_H_
