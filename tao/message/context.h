// Context: what a message handler knows about the message it is handling.
//
//   registry.Register<chat::Say>([](tao::Context& ctx, const chat::Say& say) {
//     (void)ctx.endpoint().Broadcast(say);  // a Server's or a Client's
//     (void)ctx.Reply(ack);                 // back on this connection
//   });
//
// Thread safety: a Context lives for one handler call, on the thread running
// the handler (an I/O loop or a worker). The connection it refers to is kept
// alive for that call; after the connection closed, sends fail with
// FAILED_PRECONDITION instead of crashing.
#ifndef TAO_MESSAGE_CONTEXT_H_
#define TAO_MESSAGE_CONTEXT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/message/endpoint.h"
#include "tao/net/connection.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Context {
 public:
  Context(Connection& connection, const Endpoint& endpoint, int32_t type)
      : connection_(connection), endpoint_(endpoint), type_(type) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Connection& connection() const { return connection_; }
  // The server that accepted the connection or the client that made it.
  const Endpoint& endpoint() const { return endpoint_; }
  // The connection's id (Go tao's "net id").
  uint64_t net_id() const { return connection_.id(); }
  // The type id of the message being handled.
  int32_t type() const { return type_; }

  // Sends `message` (or a raw payload of `type`) back on this connection.
  absl::Status Reply(const google::protobuf::Message& message) const {
    return endpoint_.Send(connection_, message);
  }
  absl::Status ReplyRaw(int32_t type, absl::string_view payload) const {
    return endpoint_.SendRaw(connection_, type, payload);
  }

 private:
  Connection& connection_;
  const Endpoint& endpoint_;
  const int32_t type_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_CONTEXT_H_
