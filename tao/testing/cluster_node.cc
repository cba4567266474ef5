#include "tao/testing/cluster_node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tao/base/logging.h"
#include "tao/message/context.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace testing {
namespace {

ServerOptions NodeOptions(size_t io_threads) {
  ServerOptions options;
  options.io_threads = io_threads;
  options.handler_threads = 0;  // inline handlers
  return options;
}

uint32_t LoadLe32(absl::string_view b) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= uint32_t{static_cast<uint8_t>(b[i])} << (8 * i);
  }
  return v;
}

}  // namespace

ClusterNode::ClusterNode(ClusterBridgeOptions bridge_options, size_t io_threads)
    : server_(NodeOptions(io_threads), &registry_),
      bridge_(server_, std::move(bridge_options)) {
  // The connection's room is its name (set once, on the loop, by kJoin).
  TAO_CHECK(registry_
                .RegisterRaw(kJoin,
                             [](Context& ctx, absl::string_view room) {
                               ctx.connection().set_name(std::string(room));
                               ctx.endpoint().groups().Join(room,
                                                            ctx.connection());
                               (void)ctx.ReplyRaw(kJoined, room);
                             })
                .ok());
  TAO_CHECK(registry_
                .RegisterRaw(kSay,
                             [this](Context& ctx, absl::string_view said) {
                               if (!started_.load(std::memory_order_acquire)) {
                                 return;
                               }
                               absl::Status s = bridge_.PublishRawToGroup(
                                   ctx.connection().name(), kHeard, said);
                               if (!s.ok()) {
                                 TAO_LOG(ERROR) << "PublishRawToGroup: " << s;
                               }
                             })
                .ok());
}

ClusterNode::~ClusterNode() { Shutdown(); }

absl::Status ClusterNode::Start() {
  absl::Status s = server_.Listen("127.0.0.1:0");
  if (s.ok()) s = server_.Start();
  if (s.ok()) s = bridge_.Start();
  if (s.ok()) started_.store(true, std::memory_order_release);
  return s;
}

void ClusterNode::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  bridge_.Stop();
  server_.Stop(absl::Seconds(1));
  server_.Join();
}

absl::StatusOr<RoomClient> RoomClient::Join(const InetAddress& node,
                                            absl::string_view room,
                                            absl::Duration timeout) {
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(node, timeout);
  if (!peer.ok()) return peer.status();
  RoomClient client(*std::move(peer));
  absl::Status wrote = client.peer_.WriteAll(TlvFrame(kJoin, room), timeout);
  if (!wrote.ok()) return wrote;
  absl::StatusOr<std::string> joined = client.Read(kJoined, timeout);
  if (!joined.ok()) return joined.status();
  return client;
}

absl::Status RoomClient::Say(absl::string_view payload) {
  return peer_.WriteAll(TlvFrame(kSay, payload));
}

absl::StatusOr<std::string> RoomClient::Hear(absl::Duration timeout) {
  return Read(kHeard, timeout);
}

absl::StatusOr<std::string> RoomClient::Read(int32_t type,
                                             absl::Duration timeout) {
  absl::StatusOr<std::string> header = peer_.ReadExactly(8, timeout);
  if (!header.ok()) return header.status();
  const int32_t got = static_cast<int32_t>(LoadLe32(*header));
  const uint32_t length = LoadLe32(absl::string_view(*header).substr(4));
  absl::StatusOr<std::string> payload = peer_.ReadExactly(length, timeout);
  if (!payload.ok()) return payload.status();
  if (got != type) {
    return absl::FailedPreconditionError(absl::StrCat(
        "frame of type ", got, " (expected ", type, "): ", *payload));
  }
  return payload;
}

}  // namespace testing
}  // namespace tao
