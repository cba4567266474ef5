#include "tao/message/registry.h"

#include "codec/codec.h"

namespace tao {

Registry::DispatchFn Registry::WrapRaw(RawHandler handler) {
  return [handler = std::move(handler)](
             Context& context, absl::string_view payload) -> absl::Status {
    handler(context, payload);
    return absl::OkStatus();
  };
}

absl::Status Registry::RegisterRaw(int32_t type, RawHandler handler) {
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty raw handler for type ", type));
  }
  Entry entry;
  entry.name = "raw";
  entry.dispatch = WrapRaw(std::move(handler));
  return Add(type, std::move(entry));
}

absl::Status Registry::RegisterDispatch(int32_t type, std::string name,
                                        DispatchFn dispatch) {
  if (!dispatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty dispatch function for ", name));
  }
  Entry entry;
  entry.name = std::move(name);
  entry.dispatch = std::move(dispatch);
  return Add(type, std::move(entry));
}

absl::Status Registry::RegisterCatchAll(RawHandler handler) {
  if (!handler) {
    return absl::InvalidArgumentError("empty catch-all handler");
  }
  if (catch_all_ != nullptr) {
    return absl::AlreadyExistsError("a catch-all handler is already set");
  }
  catch_all_ = std::make_unique<DispatchFn>(WrapRaw(std::move(handler)));
  RebuildDense();
  return absl::OkStatus();
}

void Registry::RebuildDense() {
  // Rebuilt whole: inserting may have moved every entry of the hash map.
  dense_.assign(kDenseTypes, nullptr);
  for (int32_t type = 0; type < static_cast<int32_t>(kDenseTypes); ++type) {
    dense_[type] = FindInMap(type);
  }
}

absl::Status Registry::Add(int32_t type, Entry entry) {
  auto [it, inserted] = entries_.try_emplace(type, std::move(entry));
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("message type ", type,
                                                 " is already registered (",
                                                 it->second.name, ")"));
  }
  RebuildDense();
  return absl::OkStatus();
}

const Registry::DispatchFn* Registry::FindInMap(int32_t type) const {
  auto it = entries_.find(type);
  if (it != entries_.end()) return &it->second.dispatch;
  if (type == kHeartbeatType) return nullptr;
  return catch_all_.get();
}

absl::Status Registry::Dispatch(Context& context, int32_t type,
                                absl::string_view payload) const {
  const DispatchFn* dispatch = Find(type);
  if (dispatch == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no handler for message type ", type));
  }
  return (*dispatch)(context, payload);
}

absl::string_view Registry::TypeName(int32_t type) const {
  auto it = entries_.find(type);
  if (it != entries_.end()) return it->second.name;
  return Find(type) != nullptr ? absl::string_view("catch-all")
                               : absl::string_view();
}

}  // namespace tao
