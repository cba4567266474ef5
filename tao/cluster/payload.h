// The bytes a ClusterBridge publishes to Redis for one message: who sent it
// and the frame to hand to the members, as the servers' codec encoded it.
//
//   | version: 1 byte (1) | origin: uint64 little-endian | frame: the rest |
//
// `origin` is the publishing bridge's random id: pub/sub echoes a message
// back to its publisher, whose members already have it, so each bridge drops
// the copies carrying its own id. `frame` is one whole frame of the codec all
// bridged servers share, delivered byte for byte (never re-encoded). Where it
// goes (a group, or everyone) is the Redis channel's business (channels.h).
//
// Thread safety: free functions on values; any thread.
#ifndef TAO_CLUSTER_PAYLOAD_H_
#define TAO_CLUSTER_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace tao {

inline constexpr uint8_t kClusterPayloadVersion = 1;
// Version byte + origin.
inline constexpr size_t kClusterPayloadHeaderSize = 1 + 8;

struct ClusterPayload {
  uint64_t origin = 0;
  absl::string_view frame;  // points into the decoded bytes
};

// Header + `frame` (copied once, flattened: Redis takes one buffer).
std::string EncodeClusterPayload(uint64_t origin, const absl::Cord& frame);

// INVALID_ARGUMENT for bytes shorter than the header, an unknown version or
// an empty frame. Never reads outside `bytes`.
absl::StatusOr<ClusterPayload> DecodeClusterPayload(absl::string_view bytes);

}  // namespace tao

#endif  // TAO_CLUSTER_PAYLOAD_H_
