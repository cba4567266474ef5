// FlatBuffers tables as tao messages: register a typed handler that only
// ever sees verified tables, and send tables built with a
// flatbuffers::FlatBufferBuilder. A table's type id is its schema's
// `tao_message_id` attribute (codec/flatbuffers/type_id.h); build the
// schema with tao_flatbuffers_library and include its <schema>_tao.h.
//
//   absl::Status s = tao::RegisterFlatBuffer<game::Position>(
//       registry, [](tao::Context& ctx, const game::Position& p) {
//         flatbuffers::FlatBufferBuilder b;
//         b.Finish(game::CreateAck(b, p.seq()));
//         (void)tao::ReplyFlatBuffer<game::Ack>(ctx, b);
//       });
//
// Every payload runs through VerifyFlatBuffer (codec/flatbuffers/verify.h)
// with the registration's FlatBufferLimits before the handler is called; a
// payload that fails is DATA_LOSS naming the table, which the dispatcher
// counts as a bad payload before closing that connection. The table
// reference is valid only during the handler call (it points into the
// frame or a per-thread aligned copy): copy out what must outlive it.
//
// Thread safety: as Registry (register before the endpoints start) and
// Endpoint (sending is safe from any thread). A builder must be Finish()ed
// and is only read while sending; it is the caller's to reuse afterwards.
#ifndef TAO_MESSAGE_FLATBUFFERS_H_
#define TAO_MESSAGE_FLATBUFFERS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/flatbuffers/type_id.h"
#include "codec/flatbuffers/verify.h"
#include "flatbuffers/flatbuffers.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/registry.h"
#include "tao/net/connection.h"

namespace tao {

template <typename Table>
using FlatBufferHandler = std::function<void(Context&, const Table&)>;

// Registers `handler` for frames of FlatBufferTypeId<Table>::value.
// ALREADY_EXISTS when the id is taken, INVALID_ARGUMENT for an empty
// handler or unusable limits.
template <typename Table>
requires HasFlatBufferTypeId<Table> absl::Status RegisterFlatBuffer(
    Registry& registry, FlatBufferHandler<Table> handler,
    const FlatBufferLimits& limits = {}) {
  using Id = FlatBufferTypeId<Table>;
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty handler for ", Id::name));
  }
  if (absl::Status s = flatbuffers_internal::CheckLimits(limits); !s.ok()) {
    return s;
  }
  return registry.RegisterDispatch(
      Id::value, Id::name,
      [handler = std::move(handler), limits](
          Context& context, absl::string_view payload) -> absl::Status {
        absl::StatusOr<const Table*> table =
            VerifyFlatBuffer<Table>(payload, limits, Id::name);
        if (!table.ok()) return table.status();
        handler(context, **table);
        return absl::OkStatus();
      });
}

// The bytes of a finished builder (they stay the builder's).
inline absl::string_view FlatBufferBytes(
    const flatbuffers::FlatBufferBuilder& builder) {
  return absl::string_view(
      reinterpret_cast<const char*>(builder.GetBufferPointer()),
      builder.GetSize());
}

// The builder's finished `Table` as a frame of its type id on `connection`.
template <typename Table>
requires HasFlatBufferTypeId<Table> absl::Status SendFlatBuffer(
    const Endpoint& endpoint, Connection& connection,
    const flatbuffers::FlatBufferBuilder& builder) {
  return endpoint.SendRaw(connection, FlatBufferTypeId<Table>::value,
                          FlatBufferBytes(builder));
}

// Back on the connection of the message being handled.
template <typename Table>
requires HasFlatBufferTypeId<Table> absl::Status ReplyFlatBuffer(
    const Context& context, const flatbuffers::FlatBufferBuilder& builder) {
  return context.ReplyRaw(FlatBufferTypeId<Table>::value,
                          FlatBufferBytes(builder));
}

// Encoded once, the same bytes queued on every open connection; how many
// accepted it.
template <typename Table>
requires HasFlatBufferTypeId<Table> absl::StatusOr<size_t> BroadcastFlatBuffer(
    const Endpoint& endpoint, const flatbuffers::FlatBufferBuilder& builder) {
  return endpoint.BroadcastRaw(FlatBufferTypeId<Table>::value,
                               FlatBufferBytes(builder));
}

// To the connection with id `id`; NOT_FOUND when there is none.
template <typename Table>
requires HasFlatBufferTypeId<Table> absl::Status UnicastFlatBuffer(
    const Endpoint& endpoint, uint64_t id,
    const flatbuffers::FlatBufferBuilder& builder) {
  return endpoint.UnicastRaw(id, FlatBufferTypeId<Table>::value,
                             FlatBufferBytes(builder));
}

// On a sender with its own current connection, e.g. a tao::Client.
template <typename Table, typename Sender>
requires HasFlatBufferTypeId<Table> &&
    requires(Sender& s, absl::string_view payload) {
  { s.SendRaw(int32_t{1}, payload) } -> std::same_as<absl::Status>;
}
absl::Status SendFlatBuffer(Sender& sender,
                            const flatbuffers::FlatBufferBuilder& builder) {
  return sender.SendRaw(FlatBufferTypeId<Table>::value,
                        FlatBufferBytes(builder));
}

}  // namespace tao

#endif  // TAO_MESSAGE_FLATBUFFERS_H_
