#include "tao/cluster/remote_delivery.h"

#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "tao/cluster/channels.h"
#include "tao/cluster/payload.h"

namespace tao {

RemoteDelivery::RemoteDelivery(const Endpoint& endpoint, uint64_t self_id,
                               std::string channel_prefix)
    : endpoint_(endpoint),
      self_id_(self_id),
      prefix_(std::move(channel_prefix)) {}

RemoteDelivery::Result RemoteDelivery::Deliver(
    absl::string_view channel, absl::string_view payload) const {
  absl::StatusOr<ChannelTarget> target = ParseChannel(prefix_, channel);
  if (!target.ok()) return {Outcome::kBadChannel, 0};
  absl::StatusOr<ClusterPayload> decoded = DecodeClusterPayload(payload);
  if (!decoded.ok()) return {Outcome::kBadPayload, 0};
  if (decoded->origin == self_id_) return {Outcome::kOwnEcho, 0};
  auto frame = endpoint_.codec().Decode(decoded->frame);
  if (!frame.ok() || !frame->has_value() ||
      (*frame)->size != decoded->frame.size()) {
    return {Outcome::kBadFrame, 0};
  }
  if (target->all) {
    if (endpoint_.connection_count() == 0) return {Outcome::kDelivered, 0};
    return {Outcome::kDelivered,
            endpoint_.BroadcastFrame(absl::Cord(decoded->frame))};
  }
  std::vector<ConnectionPtr> members =
      endpoint_.groups().Members(target->group);
  if (members.empty()) return {Outcome::kDelivered, 0};
  return {Outcome::kDelivered,
          endpoint_.MulticastFrame(members, absl::Cord(decoded->frame))};
}

}  // namespace tao
