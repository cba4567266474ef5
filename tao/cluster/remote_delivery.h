// RemoteDelivery: what a ClusterBridge does with one message its Redis
// subscription received: check the channel and the payload (payload.h),
// drop the bridge's own echo, check that the frame is one whole frame of
// this server's codec, and queue the frame's bytes (not re-encoded) on the
// local members of the channel's group, or on every local connection.
// Bytes from Redis are untrusted: anything malformed is reported in the
// result (the bridge counts it) and goes nowhere.
//
// Thread safety: Deliver from any thread (the endpoint's Multicast and
// groups are); the bridge calls it on its loop.
#ifndef TAO_CLUSTER_REMOTE_DELIVERY_H_
#define TAO_CLUSTER_REMOTE_DELIVERY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tao/message/endpoint.h"

namespace tao {

class RemoteDelivery {
 public:
  enum class Outcome {
    kDelivered,   // queued on `recipients` local connections (maybe 0)
    kOwnEcho,     // published by this bridge: its members have it already
    kBadChannel,  // not a channel of this prefix
    kBadPayload,  // too short or an unknown version
    kBadFrame,    // not exactly one whole frame of the endpoint's codec
  };
  struct Result {
    Outcome outcome = Outcome::kDelivered;
    size_t recipients = 0;
  };

  // `endpoint` must outlive this object.
  RemoteDelivery(const Endpoint& endpoint, uint64_t self_id,
                 std::string channel_prefix);

  Result Deliver(absl::string_view channel, absl::string_view payload) const;

 private:
  const Endpoint& endpoint_;
  const uint64_t self_id_;
  const std::string prefix_;
};

}  // namespace tao

#endif  // TAO_CLUSTER_REMOTE_DELIVERY_H_
