#include "tao/message/groups.h"

#include <algorithm>
#include <utility>

namespace tao {

bool ConnectionGroups::Join(absl::string_view group, Connection& connection) {
  used_.store(true, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  // Under the lock: a close racing with this join runs LeaveAll after it
  // (OnClosed follows kClosed), so the entry cannot outlive the connection.
  if (connection.state() == Connection::State::kClosed) return false;
  auto& members = groups_[group];
  if (!members.emplace(connection.id(), connection.weak_from_this()).second) {
    return false;
  }
  member_of_[connection.id()].emplace(group);
  return true;
}

bool ConnectionGroups::Leave(absl::string_view group, uint64_t connection_id) {
  absl::MutexLock lock(&mu_);
  auto g = groups_.find(group);
  if (g == groups_.end() || g->second.erase(connection_id) == 0) return false;
  if (g->second.empty()) groups_.erase(g);
  auto m = member_of_.find(connection_id);
  if (m != member_of_.end()) {
    m->second.erase(std::string(group));
    if (m->second.empty()) member_of_.erase(m);
  }
  return true;
}

size_t ConnectionGroups::LeaveAll(uint64_t connection_id) {
  if (!used_.load(std::memory_order_relaxed)) return 0;
  absl::MutexLock lock(&mu_);
  auto m = member_of_.find(connection_id);
  if (m == member_of_.end()) return 0;
  const size_t left = m->second.size();
  for (const std::string& group : m->second) {
    auto g = groups_.find(group);
    if (g == groups_.end()) continue;
    g->second.erase(connection_id);
    if (g->second.empty()) groups_.erase(g);
  }
  member_of_.erase(m);
  return left;
}

std::vector<ConnectionPtr> ConnectionGroups::Members(
    absl::string_view group) const {
  std::vector<ConnectionPtr> members;
  absl::MutexLock lock(&mu_);
  auto g = groups_.find(group);
  if (g == groups_.end()) return members;
  members.reserve(g->second.size());
  for (const auto& [id, weak] : g->second) {
    if (ConnectionPtr connection = weak.lock()) {
      members.push_back(std::move(connection));
    }
  }
  return members;
}

size_t ConnectionGroups::size(absl::string_view group) const {
  absl::MutexLock lock(&mu_);
  auto g = groups_.find(group);
  return g == groups_.end() ? 0 : g->second.size();
}

bool ConnectionGroups::Contains(absl::string_view group,
                                uint64_t connection_id) const {
  absl::MutexLock lock(&mu_);
  auto g = groups_.find(group);
  return g != groups_.end() && g->second.contains(connection_id);
}

std::vector<std::string> ConnectionGroups::GroupsOf(
    uint64_t connection_id) const {
  std::vector<std::string> groups;
  {
    absl::MutexLock lock(&mu_);
    auto m = member_of_.find(connection_id);
    if (m != member_of_.end())
      groups.assign(m->second.begin(), m->second.end());
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

size_t ConnectionGroups::group_count() const {
  absl::MutexLock lock(&mu_);
  return groups_.size();
}

}  // namespace tao
