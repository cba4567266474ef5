// Context: what a message handler knows about the message it is handling.
//
//   registry.Register<chat::Say>([](tao::Context& ctx, const chat::Say& say) {
//     ctx.server()->Broadcast(say);
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
#include "tao/net/connection.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Client;
class Server;

class Context {
 public:
  Context(Connection& connection, Server* server, Client* client, int32_t type)
      : connection_(connection),
        server_(server),
        client_(client),
        type_(type) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Connection& connection() const { return connection_; }
  // The server that accepted the connection, or nullptr on a client.
  Server* server() const { return server_; }
  // The client that made the connection, or nullptr on a server.
  Client* client() const { return client_; }
  // The connection's id (Go tao's "net id").
  uint64_t net_id() const { return connection_.id(); }
  // The type id of the message being handled.
  int32_t type() const { return type_; }

  // Sends `message` back on this connection.
  absl::Status Reply(const google::protobuf::Message& message) const;

 private:
  Connection& connection_;
  Server* const server_;
  Client* const client_;
  const int32_t type_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_CONTEXT_H_
