// ProxyHeaderGuard: a ConnectionHandler decorator for connections from
// peers that are not trusted to send a PROXY protocol header while a server
// accepts them from its load balancers (TcpServerOptions::proxy_protocol).
// A connection whose first bytes are a PROXY header ("PROXY " or the v2
// signature) is closed with PERMISSION_DENIED and counted: a client must not
// be able to claim another address. Anything else goes to the wrapped
// handler unchanged; after the first bytes decide, the guard only forwards.
//
// It looks at input only, so a server that speaks first is not delayed. A
// first segment that is a proper prefix of a header's start ("PRO") is
// held until more bytes decide.
//
// Thread safety: as any ConnectionHandler (the connection's loop); the
// counter is atomic and must outlive the guard.
#ifndef TAO_NET_PROXY_HEADER_GUARD_H_
#define TAO_NET_PROXY_HEADER_GUARD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "tao/net/connection_handler.h"

namespace tao {

class ProxyHeaderGuard final : public ConnectionHandler {
 public:
  // `refused` counts the connections closed for sending a header.
  ProxyHeaderGuard(std::unique_ptr<ConnectionHandler> inner,
                   std::atomic<uint64_t>* refused)
      : inner_(std::move(inner)), refused_(refused) {}

  bool OnConnected(Connection& connection) override {
    return inner_->OnConnected(connection);
  }
  void OnData(Connection& connection, Buffer& input) override;
  void OnWriteDrained(Connection& connection) override {
    inner_->OnWriteDrained(connection);
  }
  void OnHighWater(Connection& connection, size_t queued) override {
    inner_->OnHighWater(connection, queued);
  }
  void OnLowWater(Connection& connection, size_t queued) override {
    inner_->OnLowWater(connection, queued);
  }
  absl::Status OnPeerEof(Connection& connection,
                         const Buffer& unconsumed) override {
    return inner_->OnPeerEof(connection, unconsumed);
  }
  void OnError(Connection& connection, const absl::Status& error) override {
    inner_->OnError(connection, error);
  }
  void OnClosed(Connection& connection, const absl::Status& reason) override {
    inner_->OnClosed(connection, reason);
  }
  void Execute(Connection& connection,
               absl::AnyInvocable<void()> work) override {
    inner_->Execute(connection, std::move(work));
  }

 private:
  const std::unique_ptr<ConnectionHandler> inner_;
  std::atomic<uint64_t>* const refused_;
  bool decided_ = false;  // the first bytes were not a header
  bool refused_once_ = false;
};

}  // namespace tao

#endif  // TAO_NET_PROXY_HEADER_GUARD_H_
