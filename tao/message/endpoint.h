// Endpoint: what a message handler can do with the server or client its
// connection belongs to. A handler's Context always has one (never null), so
// the same handler works on either side.
//
//   registry.Register<chat::Say>([](tao::Context& ctx, const chat::Say& say) {
//     (void)ctx.endpoint().Broadcast(say);   // encoded once, shared bytes
//   });
//
// Frames are encoded with the endpoint's codec. Thread safety: every method
// is safe from any thread once the endpoint started, including inside
// handlers.
#ifndef TAO_MESSAGE_ENDPOINT_H_
#define TAO_MESSAGE_ENDPOINT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "tao/message/groups.h"
#include "tao/metrics/counter.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // --- Connections of this endpoint ---
  // nullptr when no open connection has that id.
  virtual ConnectionPtr Find(uint64_t id) const = 0;
  // `fn` for every open connection (a snapshot, on the calling thread).
  virtual void ForEach(
      const std::function<void(const ConnectionPtr&)>& fn) const = 0;
  virtual size_t connection_count() const = 0;
  // The framing of every connection of this endpoint.
  virtual const Codec& codec() const = 0;

  // --- Sending messages ---
  // Frames `message` (type from its (tao.message_id) option, NOT_FOUND
  // without one) and queues it on `connection`. Encodes into a per-thread
  // buffer: no allocation in steady state.
  absl::Status Send(Connection& connection,
                    const google::protobuf::Message& message) const;
  // A raw payload of `type` (Go tao peers with hand-made payloads).
  absl::Status SendRaw(Connection& connection, int32_t type,
                       absl::string_view payload) const;
  // Encodes once and queues the same shared bytes on every open connection;
  // returns how many accepted them.
  absl::StatusOr<size_t> Broadcast(
      const google::protobuf::Message& message) const;
  absl::StatusOr<size_t> BroadcastRaw(int32_t type,
                                      absl::string_view payload) const;
  // Encoded frames (e.g. from EncodeMessageFrame) to every open connection.
  // A server charges its output budget once for them, not per recipient.
  virtual size_t BroadcastFrame(const absl::Cord& frame) const;
  // NOT_FOUND when no connection has that id.
  absl::Status Unicast(uint64_t id,
                       const google::protobuf::Message& message) const;
  absl::Status UnicastRaw(uint64_t id, int32_t type,
                          absl::string_view payload) const;

  // --- Groups (rooms): see groups.h ---
  // This endpoint's named groups of connections (membership ends when a
  // connection closes).
  ConnectionGroups& groups() const { return groups_; }
  // Encodes once and queues the same shared bytes on every member of
  // `group`; returns how many accepted them (0 for an unknown group).
  absl::StatusOr<size_t> BroadcastToGroup(
      absl::string_view group, const google::protobuf::Message& message) const;
  absl::StatusOr<size_t> BroadcastRawToGroup(absl::string_view group,
                                             int32_t type,
                                             absl::string_view payload) const;
  // Encodes once and queues the same shared bytes on each of `connections`
  // (of this endpoint; any subset); returns how many accepted them.
  absl::StatusOr<size_t> Multicast(
      const std::vector<ConnectionPtr>& connections,
      const google::protobuf::Message& message) const;
  // Encoded frames to `connections` (of this endpoint). A server charges
  // its output budget once for them, not per recipient.
  virtual size_t MulticastFrame(const std::vector<ConnectionPtr>& connections,
                                const absl::Cord& frame) const;

  // Frames queued by Send, SendRaw, Unicast* and Broadcast* (a broadcast
  // counts once per connection that accepted it).
  uint64_t frames_sent() const { return frames_sent_.Value(); }

 private:
  mutable Counter frames_sent_;
  mutable ConnectionGroups groups_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_ENDPOINT_H_
