// MessageTypeId: the frame type of a protobuf message type, read from its
// `option (tao.message_id) = N;` (codec/proto/options.proto).
//
//   absl::StatusOr<int32_t> id = tao::MessageTypeId(*chat::Chat::descriptor());
//
// Called on every Send, so it is cheap on repeated calls: results for
// descriptors of the generated pool (which live forever) are cached per
// thread in a small direct-mapped table keyed by Descriptor*, with no lock
// and no hashing of names. Descriptors of other pools (DynamicMessage) are
// looked up each time, since such a pool may die and its addresses be reused.
//
// Thread-safe: may be called from any thread concurrently.

#ifndef CODEC_MESSAGE_ID_H_
#define CODEC_MESSAGE_ID_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"

namespace tao {

// The (tao.message_id) option of a message type. NOT_FOUND (naming the
// message's full name) if the option is absent.
absl::StatusOr<int32_t> MessageTypeId(
    const google::protobuf::Descriptor& descriptor);

}  // namespace tao

#endif  // CODEC_MESSAGE_ID_H_
