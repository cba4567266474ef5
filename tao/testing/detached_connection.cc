#include "tao/testing/detached_connection.h"

#include <sys/socket.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "codec/codec.h"
#include "codec/tlv_codec.h"
#include "tao/message/endpoint.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"

namespace tao {
namespace testing {
namespace {

// The connection is never established: it has no events to handle.
class NullHandler final : public ConnectionHandler {
 public:
  void OnData(Connection& /*connection*/, Buffer& input) override {
    input.RetrieveAll();
  }
};

class OneConnectionEndpoint final : public Endpoint {
 public:
  explicit OneConnectionEndpoint(ConnectionPtr connection)
      : connection_(std::move(connection)) {}

  ConnectionPtr Find(uint64_t id) const override {
    return connection_->id() == id ? connection_ : nullptr;
  }
  void ForEach(
      const std::function<void(const ConnectionPtr&)>& fn) const override {
    fn(connection_);
  }
  size_t connection_count() const override { return 1; }
  const Codec& codec() const override { return TlvCodec::Default(); }

 private:
  const ConnectionPtr connection_;
};

}  // namespace

DetachedConnection::DetachedConnection() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return;
  peer_ = Socket(fds[1]);
  connection_ = std::make_shared<Connection>(
      &loop_, 7, std::make_unique<TcpTransport>(Socket(fds[0])), InetAddress(),
      InetAddress(), std::make_shared<const ConnectionOptions>(),
      std::make_unique<NullHandler>(), /*budget=*/nullptr, /*owner=*/nullptr);
  endpoint_ = std::make_unique<OneConnectionEndpoint>(connection_);
}

DetachedConnection::~DetachedConnection() = default;

}  // namespace testing
}  // namespace tao
