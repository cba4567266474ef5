#include "tao/message/type_counters.h"

#include <algorithm>
#include <utility>

namespace tao {

TypeCounters::TypeCounters(const Registry* registry) {
  std::vector<std::pair<int32_t, std::string>> types;
  if (registry != nullptr) {
    registry->ForEachType([&](int32_t type, absl::string_view name) {
      types.emplace_back(type, std::string(name));
    });
  }
  std::sort(types.begin(), types.end());
  int32_t dense_size = 0;
  for (const auto& [type, name] : types) {
    if (type >= 0 && type < kDenseTypes) dense_size = type + 1;
  }
  dense_.assign(dense_size, nullptr);
  for (auto& [type, name] : types) {
    Entry& entry = entries_.emplace_back();
    entry.type = type;
    entry.name = std::move(name);
    if (type >= 0 && type < dense_size) {
      dense_[type] = &entry.counter;
    } else {
      sparse_[type] = &entry.counter;
    }
  }
}

void TypeCounters::CountSlow(int32_t type, uint64_t n) {
  auto it = sparse_.find(type);
  (it != sparse_.end() ? *it->second : others_).Increment(n);
}

void TypeCounters::ForEach(
    absl::FunctionRef<void(int32_t, absl::string_view, uint64_t)> fn) const {
  for (const Entry& entry : entries_) {
    fn(entry.type, entry.name, entry.counter.Value());
  }
}

uint64_t TypeCounters::total() const {
  uint64_t sum = others_.Value();
  for (const Entry& entry : entries_) sum += entry.counter.Value();
  return sum;
}

}  // namespace tao
