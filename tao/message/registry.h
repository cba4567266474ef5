// Registry: message type id -> how to decode the payload and which handler
// runs it. One registry may serve several servers and clients.
//
//   tao::Registry registry;
//   absl::Status s = registry.Register<chat::Say>(
//       [](tao::Context& ctx, const chat::Say& say) { ... });
//   s = registry.RegisterRaw(1, [](tao::Context& ctx, absl::string_view p) {
//     ...  // Go tao peers with hand-made payloads
//   });
//   s = registry.RegisterCatchAll([](tao::Context& ctx, absl::string_view p) {
//     ...  // every other type (ctx.type()); Go tao's OnMessage
//   });
//
// Protobuf messages take their type id from the `(tao.message_id)` option in
// their .proto file. Each thread decodes into its own reused message object,
// so steady-state dispatch allocates nothing beyond what the message's own
// fields need.
//
// Thread safety: Register*/RegisterRaw before any server or client using the
// registry starts (not thread safe). Dispatch, Contains and size are then
// safe from any number of threads at once.
#ifndef TAO_MESSAGE_REGISTRY_H_
#define TAO_MESSAGE_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/message_id.h"
#include "tao/message/context.h"

namespace tao {

class Registry {
 public:
  template <typename Message>
  using Handler = std::function<void(Context&, const Message&)>;
  using RawHandler = std::function<void(Context&, absl::string_view payload)>;
  // Decodes a payload and runs its handler; DATA_LOSS when it does not parse.
  using DispatchFn = std::function<absl::Status(Context&, absl::string_view)>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers the handler for protobuf message type `Message`, whose id is
  // its (tao.message_id) option. NOT_FOUND when the option is missing,
  // ALREADY_EXISTS when the id is taken, INVALID_ARGUMENT for an empty
  // handler.
  template <typename Message>
  absl::Status Register(Handler<Message> handler);

  // Registers a handler that receives the raw payload of frames of `type`.
  absl::Status RegisterRaw(int32_t type, RawHandler handler);

  // Registers a decoder+handler for frames of `type` written elsewhere (e.g.
  // RegisterFlatBuffer in tao/message/flatbuffers.h); `name` is what
  // TypeName reports. `dispatch` returns DATA_LOSS for a payload it cannot
  // decode. ALREADY_EXISTS when the id is taken, INVALID_ARGUMENT for an
  // empty `dispatch`.
  absl::Status RegisterDispatch(int32_t type, std::string name,
                                DispatchFn dispatch);

  // Registers the handler for frames of every type that has none of its own
  // (Go tao's OnMessage); it sees the type as Context::type(). Without one,
  // such frames follow the endpoint's UnknownTypePolicy. The heartbeat
  // (type 0) stays the framework's unless registered explicitly.
  // ALREADY_EXISTS when one is set, INVALID_ARGUMENT for an empty handler.
  absl::Status RegisterCatchAll(RawHandler handler);

  // What handles frames of `type`: its own handler, else the catch-all
  // (except for the heartbeat type), else nullptr. One array load for
  // types below kDenseTypes, else one hash lookup.
  const DispatchFn* Find(int32_t type) const {
    if (static_cast<uint32_t>(type) < dense_.size()) return dense_[type];
    return FindInMap(type);
  }

  // Find(type), run on the calling thread. NOT_FOUND when nothing handles
  // `type`; DATA_LOSS when the payload does not parse.
  absl::Status Dispatch(Context& context, int32_t type,
                        absl::string_view payload) const;

  // Whether `type` has a handler of its own.
  bool Contains(int32_t type) const { return entries_.contains(type); }
  bool has_catch_all() const { return catch_all_ != nullptr; }
  size_t size() const { return entries_.size(); }
  // `fn(type, name)` for every type with a handler of its own (any order).
  void ForEachType(
      absl::FunctionRef<void(int32_t type, absl::string_view name)> fn) const {
    for (const auto& [type, entry] : entries_) fn(type, entry.name);
  }
  // The registered type's name ("tao.test.Chat", or "raw" for raw handlers).
  absl::string_view TypeName(int32_t type) const;

 private:
  struct Entry {
    std::string name;
    DispatchFn dispatch;
  };

  // Types below this are found in dense_ (8 KiB of pointers).
  static constexpr size_t kDenseTypes = 1024;

  absl::Status Add(int32_t type, Entry entry);
  static DispatchFn WrapRaw(RawHandler handler);
  const DispatchFn* FindInMap(int32_t type) const;
  // Fills dense_ from entries_ and catch_all_; after every registration.
  void RebuildDense();

  absl::flat_hash_map<int32_t, Entry> entries_;
  std::unique_ptr<DispatchFn> catch_all_;
  // Find's answer for each type below kDenseTypes (empty until the first
  // registration: every type then has no handler).
  std::vector<const DispatchFn*> dense_;
};

template <typename Message>
absl::Status Registry::Register(Handler<Message> handler) {
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty handler for ", Message::descriptor()->full_name()));
  }
  absl::StatusOr<int32_t> type = MessageTypeId(*Message::descriptor());
  if (!type.ok()) return type.status();
  Entry entry;
  entry.name = Message::descriptor()->full_name();
  entry.dispatch = [handler = std::move(handler)](
                       Context& context,
                       absl::string_view payload) -> absl::Status {
    // One reused message per thread and type: parsing allocates only when a
    // field needs more room than any earlier message of this type did.
    thread_local Message message;
    if (!message.ParseFromArray(payload.data(),
                                static_cast<int>(payload.size()))) {
      return absl::DataLossError(absl::StrCat(
          "payload of type ", context.type(), " (", payload.size(),
          " bytes) does not parse as ", Message::descriptor()->full_name()));
    }
    handler(context, message);
    return absl::OkStatus();
  };
  return Add(*type, std::move(entry));
}

}  // namespace tao

#endif  // TAO_MESSAGE_REGISTRY_H_
