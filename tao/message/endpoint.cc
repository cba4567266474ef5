#include "tao/message/endpoint.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codec/frame_encoder.h"
#include "google/protobuf/message.h"
#include "tao/base/status_macros.h"

namespace tao {
namespace {

// Per-thread encoding scratch for Send and SendRaw; kept unless a huge
// frame made it big.
constexpr size_t kMaxRetainedScratch = size_t{1} << 20;

// Codecs whose headers fit here (TLV's 8 bytes) encode SendRaw's header on
// the stack.
constexpr size_t kMaxHeaderOnStack = 32;

std::string& EncodeScratch() {
  thread_local std::string scratch;
  if (scratch.capacity() > kMaxRetainedScratch) {
    std::string().swap(scratch);
  }
  scratch.clear();
  return scratch;
}

absl::Status NoSuchConnection(uint64_t id) {
  return absl::NotFoundError(absl::StrCat("no connection with id ", id));
}

}  // namespace

absl::Status Endpoint::Send(Connection& connection,
                            const google::protobuf::Message& message) const {
  std::string& frame = EncodeScratch();
  TAO_RETURN_IF_ERROR(AppendMessageFrame(codec(), message, &frame));
  TAO_RETURN_IF_ERROR(connection.Send(absl::string_view(frame)));
  frames_sent_.Increment();
  return absl::OkStatus();
}

absl::Status Endpoint::SendRaw(Connection& connection, int32_t type,
                               absl::string_view payload) const {
  // The header on the stack, the payload from where it is: the connection
  // copies each once, into its output.
  char header[kMaxHeaderOnStack];
  if (codec().max_header_size() > sizeof(header)) {
    std::string& frame = EncodeScratch();
    TAO_RETURN_IF_ERROR(codec().AppendFrame(type, payload, &frame));
    TAO_RETURN_IF_ERROR(connection.Send(absl::string_view(frame)));
  } else {
    TAO_ASSIGN_OR_RETURN(size_t header_size,
                         codec().EncodeHeader(type, payload.size(), header));
    TAO_RETURN_IF_ERROR(
        connection.Send(absl::string_view(header, header_size), payload));
  }
  frames_sent_.Increment();
  return absl::OkStatus();
}

size_t Endpoint::BroadcastFrame(const absl::Cord& frame) const {
  std::vector<ConnectionPtr> all;
  ForEach([&](const ConnectionPtr& connection) { all.push_back(connection); });
  return MulticastFrame(all, frame);
}

size_t Endpoint::MulticastFrame(const std::vector<ConnectionPtr>& connections,
                                const absl::Cord& frame) const {
  size_t accepted = 0;
  for (const ConnectionPtr& connection : connections) {
    if (connection->Send(frame).ok()) ++accepted;
  }
  return accepted;
}

absl::StatusOr<size_t> Endpoint::Multicast(
    const std::vector<ConnectionPtr>& connections,
    const google::protobuf::Message& message) const {
  if (connections.empty()) return 0;
  TAO_ASSIGN_OR_RETURN(absl::Cord frame, EncodeMessageFrame(codec(), message));
  const size_t accepted = MulticastFrame(connections, frame);
  frames_sent_.Increment(accepted);
  return accepted;
}

absl::StatusOr<size_t> Endpoint::BroadcastToGroup(
    absl::string_view group, const google::protobuf::Message& message) const {
  return Multicast(groups_.Members(group), message);
}

absl::StatusOr<size_t> Endpoint::BroadcastRawToGroup(
    absl::string_view group, int32_t type, absl::string_view payload) const {
  std::vector<ConnectionPtr> members = groups_.Members(group);
  if (members.empty()) return 0;
  TAO_ASSIGN_OR_RETURN(absl::Cord frame,
                       EncodeRawFrame(codec(), type, payload));
  const size_t accepted = MulticastFrame(members, frame);
  frames_sent_.Increment(accepted);
  return accepted;
}

absl::StatusOr<size_t> Endpoint::Broadcast(
    const google::protobuf::Message& message) const {
  TAO_ASSIGN_OR_RETURN(absl::Cord frame, EncodeMessageFrame(codec(), message));
  const size_t accepted = BroadcastFrame(frame);
  frames_sent_.Increment(accepted);
  return accepted;
}

absl::StatusOr<size_t> Endpoint::BroadcastRaw(int32_t type,
                                              absl::string_view payload) const {
  TAO_ASSIGN_OR_RETURN(absl::Cord frame,
                       EncodeRawFrame(codec(), type, payload));
  const size_t accepted = BroadcastFrame(frame);
  frames_sent_.Increment(accepted);
  return accepted;
}

absl::Status Endpoint::Unicast(uint64_t id,
                               const google::protobuf::Message& message) const {
  ConnectionPtr connection = Find(id);
  if (connection == nullptr) return NoSuchConnection(id);
  return Send(*connection, message);
}

absl::Status Endpoint::UnicastRaw(uint64_t id, int32_t type,
                                  absl::string_view payload) const {
  ConnectionPtr connection = Find(id);
  if (connection == nullptr) return NoSuchConnection(id);
  return SendRaw(*connection, type, payload);
}

}  // namespace tao
