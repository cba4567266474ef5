// ConnectionHandler: what a connection tells the protocol above it. One
// handler object per connection, made by the factory its endpoint (TcpServer,
// TcpClient) was given; everything a protocol remembers about one connection
// (a decoder, a queue, heartbeat state, a session) lives in that object.
//
//   class Echo : public tao::ConnectionHandler {
//    public:
//     void OnData(tao::Connection& c, tao::Buffer& in) override {
//       (void)c.Send(in.view());
//       in.RetrieveAll();
//     }
//   };
//   tao::TcpServer server(options, [] { return std::make_unique<Echo>(); });
//
// Events, in order, on the connection's loop thread:
//   OnConnected (after the transport's handshake) -- returning false refuses
//   the connection; then any number of OnData / OnWriteDrained /
//   OnHighWater / OnLowWater; OnPeerEof once when the peer closes its side;
//   OnError when an error closes the connection;
//   OnClosed exactly once, for every connection whose OnConnected ran.
// A connection that fails before OnConnected (a refused TLS handshake) gets
// OnError only.
//
// The connection owns its handler and destroys it after OnClosed; a handler
// must not keep the Connection& beyond a callback (hold a ConnectionPtr or a
// weak_ptr from Connection::shared_from_this()).
#ifndef TAO_NET_CONNECTION_HANDLER_H_
#define TAO_NET_CONNECTION_HANDLER_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace tao {

class Buffer;
class Connection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // The connection is established. false refuses it: it is closed at once
  // with CANCELLED (no OnError), and OnClosed still runs.
  virtual bool OnConnected(Connection& /*connection*/) { return true; }
  // Bytes arrived: consume what can be used (Buffer::Retrieve) and leave a
  // partial frame for the next call.
  virtual void OnData(Connection& connection, Buffer& input) = 0;
  // Everything queued so far was handed to the kernel.
  virtual void OnWriteDrained(Connection& /*connection*/) {}
  // Queued output crossed ConnectionOptions::high_water_mark going up (once
  // per crossing), and fell back to the low water mark afterwards.
  virtual void OnHighWater(Connection& /*connection*/, size_t /*queued*/) {}
  virtual void OnLowWater(Connection& /*connection*/, size_t /*queued*/) {}
  // The peer closed its side (EOF) after every byte before it reached
  // OnData; `unconsumed` is what OnData left in the input (a partial
  // message). A non-OK status becomes the close reason (OnError runs) once
  // the replies already queued went out; OK closes in order. The default
  // calls any unconsumed input a truncation (DATA_LOSS).
  virtual absl::Status OnPeerEof(Connection& connection,
                                 const Buffer& unconsumed);
  // An error (I/O, output cap, bad input reported by the handler itself
  // through CloseWithError, a failed handshake) is closing the connection.
  virtual void OnError(Connection& /*connection*/,
                       const absl::Status& /*error*/) {}
  // The connection closed; `reason` is OK for an orderly close by either
  // side. Runs exactly once.
  virtual void OnClosed(Connection& /*connection*/,
                        const absl::Status& /*reason*/) {}

  // Runs connection-bound work after the protocol's work queued so far:
  // the connection's timers (Connection::RunAfter/RunEvery), and the last
  // step of a Shutdown or of the peer's EOF (so replies to what was
  // delivered go out before the connection closes). The default runs it at
  // once on the loop thread; a protocol whose callbacks run elsewhere (the
  // message layer's worker strands) runs it there, so timers and the
  // protocol's callbacks never run concurrently. Work that is dropped
  // (e.g. after the pool stopped) leaves the close to linger.
  virtual void Execute(Connection& /*connection*/,
                       absl::AnyInvocable<void()> work) {
    work();
  }
};

// Makes the handler of each new connection. Called on the connection's I/O
// loop thread, possibly on several loops at once (so it must be thread-safe).
using ConnectionHandlerFactory =
    std::function<std::unique_ptr<ConnectionHandler>()>;

}  // namespace tao

#endif  // TAO_NET_CONNECTION_HANDLER_H_
