// The Redis channels a ClusterBridge publishes to and subscribes to:
//
//   <prefix>:all            Publish (every connection of every server)
//   <prefix>:group:<name>   PublishToGroup(name, ...)
//
// Each bridge SUBSCRIBEs to <prefix>:all and PSUBSCRIBEs to <prefix>:group:*
// (two subscriptions whatever the number of groups, and no SUBSCRIBE traffic
// when members join or leave); a server with no members in a group drops its
// messages after one lookup. Channels per group keep the traffic readable
// with `PUBSUB CHANNELS` and allow subscribing per group later without a new
// wire layout.
//
// Thread safety: free functions on values; any thread.
#ifndef TAO_CLUSTER_CHANNELS_H_
#define TAO_CLUSTER_CHANNELS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao {

// OK for a non-empty prefix without glob characters (* ? [ ] \), which
// would make the PSUBSCRIBE pattern match other prefixes' channels.
absl::Status ValidateChannelPrefix(absl::string_view prefix);

std::string AllChannel(absl::string_view prefix);
std::string GroupChannel(absl::string_view prefix, absl::string_view group);
// The PSUBSCRIBE pattern matching every GroupChannel of `prefix`.
std::string GroupPattern(absl::string_view prefix);

// Where a message published on `channel` goes.
struct ChannelTarget {
  bool all = false;         // AllChannel: every connection
  absl::string_view group;  // else this group (points into `channel`)
};
// INVALID_ARGUMENT for a channel that is not one of `prefix`'s.
absl::StatusOr<ChannelTarget> ParseChannel(absl::string_view prefix,
                                           absl::string_view channel);

}  // namespace tao

#endif  // TAO_CLUSTER_CHANNELS_H_
