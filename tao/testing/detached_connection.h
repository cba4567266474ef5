// DetachedConnection: a Connection that is never established, and an
// Endpoint holding just it: enough to build the Context a message handler
// receives, for calling a Registry directly (tests, benchmarks, fuzzers)
// without a server, a client or a running loop.
//
//   tao::testing::DetachedConnection detached;
//   ASSERT_TRUE(detached.ok());
//   tao::Context context = detached.MakeContext(/*type=*/1);
//   absl::Status s = registry.Dispatch(context, 1, payload);
//
// The connection is one end of a socket pair (the other end is kept open)
// on a loop that never runs; sends through it are queued, never written.
//
// Thread safety: one thread.
#ifndef TAO_TESTING_DETACHED_CONNECTION_H_
#define TAO_TESTING_DETACHED_CONNECTION_H_

#include <cstdint>
#include <memory>

#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"
#include "tao/net/socket.h"

namespace tao {
namespace testing {

class DetachedConnection {
 public:
  // Connection id 7, TLV codec.
  DetachedConnection();
  ~DetachedConnection();
  DetachedConnection(const DetachedConnection&) = delete;
  DetachedConnection& operator=(const DetachedConnection&) = delete;

  // False when the socket pair could not be made (nothing else is usable).
  bool ok() const { return connection_ != nullptr; }
  Connection& connection() const { return *connection_; }
  const ConnectionPtr& connection_ptr() const { return connection_; }
  // Finds and visits the one connection.
  const Endpoint& endpoint() const { return *endpoint_; }
  Context MakeContext(int32_t type) const {
    return Context(*connection_, *endpoint_, type);
  }

 private:
  EventLoop loop_;
  Socket peer_;
  ConnectionPtr connection_;
  std::unique_ptr<Endpoint> endpoint_;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_DETACHED_CONNECTION_H_
