// ConnectionGroups: named groups (rooms) of one endpoint's connections, for
// sending to a subset: join, leave, the members of a group, the groups of a
// connection. A connection leaves every group when it closes (the message
// layer calls LeaveAll right after the endpoint's OnClose callback, which can
// still see GroupsOf it), so a group never holds a closed connection for
// longer than its close takes.
//
//   registry.Register<chat::Join>([](tao::Context& ctx, const chat::Join& j) {
//     ctx.endpoint().groups().Join(j.room(), ctx.connection());
//   });
//   registry.Register<chat::Say>([](tao::Context& ctx, const chat::Say& s) {
//     (void)ctx.endpoint().BroadcastToGroup(s.room(), s);  // encoded once
//   });
//
// Thread safety: every method is safe from any thread, concurrently (one
// absl::Mutex; a broadcast takes a snapshot of the members and sends
// outside it).
#ifndef TAO_MESSAGE_GROUPS_H_
#define TAO_MESSAGE_GROUPS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/net/connection.h"

namespace tao {

class ConnectionGroups {
 public:
  ConnectionGroups() = default;
  ConnectionGroups(const ConnectionGroups&) = delete;
  ConnectionGroups& operator=(const ConnectionGroups&) = delete;

  // Adds `connection` to `group` (made on first join). False when it is a
  // member already, or closed (it would never be removed).
  bool Join(absl::string_view group, Connection& connection);
  // False when it was not a member. An emptied group is removed.
  bool Leave(absl::string_view group, uint64_t connection_id);
  // Removes the connection from every group it is in; how many.
  size_t LeaveAll(uint64_t connection_id);

  // The open members of `group` (a snapshot; empty for an unknown group).
  std::vector<ConnectionPtr> Members(absl::string_view group) const;
  size_t size(absl::string_view group) const;
  bool Contains(absl::string_view group, uint64_t connection_id) const;
  // The groups `connection_id` is in (sorted).
  std::vector<std::string> GroupsOf(uint64_t connection_id) const;
  // Groups with at least one member.
  size_t group_count() const;

 private:
  mutable absl::Mutex mu_;
  // group -> member id -> connection (weak: a group does not keep a
  // connection alive).
  absl::flat_hash_map<std::string,
                      absl::flat_hash_map<uint64_t, std::weak_ptr<Connection>>>
      groups_ ABSL_GUARDED_BY(mu_);
  // member id -> its groups, for LeaveAll.
  absl::flat_hash_map<uint64_t, absl::flat_hash_set<std::string>> member_of_
      ABSL_GUARDED_BY(mu_);
  // Whether any connection ever joined: LeaveAll (on every close) takes no
  // lock until then.
  std::atomic<bool> used_{false};
};

}  // namespace tao

#endif  // TAO_MESSAGE_GROUPS_H_
