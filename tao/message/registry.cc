#include "tao/message/registry.h"

namespace tao {

absl::Status Registry::RegisterRaw(int32_t type, RawHandler handler) {
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty raw handler for type ", type));
  }
  Entry entry;
  entry.name = "raw";
  entry.dispatch = [handler = std::move(handler)](
                       Context& context,
                       absl::string_view payload) -> absl::Status {
    handler(context, payload);
    return absl::OkStatus();
  };
  return Add(type, std::move(entry));
}

absl::Status Registry::Add(int32_t type, Entry entry) {
  auto [it, inserted] = entries_.try_emplace(type, std::move(entry));
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("message type ", type,
                                                 " is already registered (",
                                                 it->second.name, ")"));
  }
  return absl::OkStatus();
}

absl::Status Registry::Dispatch(Context& context, int32_t type,
                                absl::string_view payload) const {
  auto it = entries_.find(type);
  if (it == entries_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no handler for message type ", type));
  }
  return it->second.dispatch(context, payload);
}

absl::string_view Registry::TypeName(int32_t type) const {
  auto it = entries_.find(type);
  return it == entries_.end() ? absl::string_view() : it->second.name;
}

}  // namespace tao
