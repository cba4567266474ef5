#include "codec/frame_encoder.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/message_id.h"
#include "google/protobuf/message.h"
#include "google/protobuf/message_lite.h"
#include "tao/base/status_macros.h"

namespace tao {

absl::Status AppendMessageFrame(const Codec& codec,
                                const google::protobuf::MessageLite& message,
                                int32_t type, std::string* out) {
  // Computes and caches the sizes SerializeWithCachedSizesToArray uses.
  const size_t size = message.ByteSizeLong();
  if (size > codec.max_payload_size() ||
      size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message ", message.GetTypeName(), " of ", size,
        " bytes exceeds the maximum payload ", codec.max_payload_size()));
  }
  if (!message.IsInitialized()) {
    return absl::InternalError(absl::StrCat(
        "cannot serialize ", message.GetTypeName(),
        ": missing required fields: ", message.InitializationErrorString()));
  }
  const size_t old_size = out->size();
  out->resize(old_size + codec.max_header_size() + size);
  char* const frame = out->data() + old_size;
  absl::StatusOr<size_t> header = codec.EncodeHeader(type, size, frame);
  if (!header.ok()) {
    out->resize(old_size);
    return header.status();
  }
  auto* const begin = reinterpret_cast<uint8_t*>(frame + *header);
  const uint8_t* const end = message.SerializeWithCachedSizesToArray(begin);
  if (static_cast<size_t>(end - begin) != size) {
    out->resize(old_size);
    return absl::InternalError(absl::StrCat(
        "serializing ", message.GetTypeName(), " wrote ", end - begin,
        " bytes, expected ", size, " (was it modified concurrently?)"));
  }
  out->resize(old_size + *header + size);
  return absl::OkStatus();
}

absl::Status AppendMessageFrame(const Codec& codec,
                                const google::protobuf::Message& message,
                                std::string* out) {
  TAO_ASSIGN_OR_RETURN(const int32_t type,
                       MessageTypeId(*message.GetDescriptor()));
  return AppendMessageFrame(
      codec, static_cast<const google::protobuf::MessageLite&>(message), type,
      out);
}

absl::StatusOr<absl::Cord> EncodeMessageFrame(
    const Codec& codec, const google::protobuf::Message& message) {
  std::string frame;
  TAO_RETURN_IF_ERROR(AppendMessageFrame(codec, message, &frame));
  return absl::Cord(std::move(frame));
}

absl::StatusOr<absl::Cord> EncodeRawFrame(const Codec& codec, int32_t type,
                                          absl::string_view payload) {
  std::string frame;
  TAO_RETURN_IF_ERROR(codec.AppendFrame(type, payload, &frame));
  return absl::Cord(std::move(frame));
}

}  // namespace tao
