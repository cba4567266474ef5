#include "tao/net/client.h"

#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/net/connector.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/transport.h"

namespace tao {

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      handlers_(std::make_shared<Connection::Handlers>()),
      loop_thread_(std::make_unique<EventLoopThread>()) {}

Client::~Client() { Stop(); }

EventLoop* Client::loop() const { return loop_thread_->loop(); }

absl::Status Client::Connect(absl::string_view address) {
  if (connector_ != nullptr) {
    return absl::FailedPreconditionError(
        "Client::Connect called twice; use one Client per connection");
  }
  TAO_ASSIGN_OR_RETURN(InetAddress parsed, InetAddress::Parse(address));
  EventLoop* loop = loop_thread_->Start();
  connector_ = std::make_shared<Connector>(loop, parsed,
                                           options_.connect_timeout,
                                           options_.reconnect);
  connector_->Start(
      [this](Socket socket) { HandleConnected(std::move(socket)); },
      [this](const absl::Status& error, bool will_retry) {
        if (on_connect_failed_) on_connect_failed_(error, will_retry);
      });
  return absl::OkStatus();
}

void Client::HandleConnected(Socket socket) {
  absl::StatusOr<InetAddress> local = socket.LocalAddress();
  absl::StatusOr<InetAddress> peer = socket.PeerAddress();
  if (peer.ok() && peer->is_ip()) {
    if (options_.connection.tcp_no_delay) (void)socket.SetTcpNoDelay(true);
    if (options_.connection.keep_alive) (void)socket.SetKeepAlive(true);
  }
  auto connection = std::make_shared<Connection>(
      loop(), next_id_.fetch_add(1, std::memory_order_relaxed),
      std::make_unique<TcpTransport>(std::move(socket)),
      local.ok() ? *local : InetAddress(),
      peer.ok() ? *peer : connector_->address(), options_.connection,
      handlers_, /*budget=*/nullptr,
      [this](Connection& closed) { HandleClosed(closed); });
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      connection->Close();
      return;
    }
    connection_ = connection;
  }
  connection->Establish();
}

void Client::HandleClosed(Connection& connection) {
  bool reconnect;
  {
    absl::MutexLock lock(&mu_);
    if (connection_.get() == &connection) connection_.reset();
    reconnect = !stopping_ && options_.reconnect.enabled;
  }
  if (reconnect) connector_->Retry();
}

ConnectionPtr Client::connection() const {
  absl::MutexLock lock(&mu_);
  return connection_;
}

absl::Status Client::Send(absl::string_view bytes) {
  ConnectionPtr current = connection();
  if (current == nullptr) {
    return absl::UnavailableError("client is not connected");
  }
  return current->Send(bytes);
}

void Client::Stop() {
  if (loop_thread_->loop() == nullptr) return;  // never started / stopped
  TAO_CHECK(!loop()->IsInLoopThread())
      << "Client::Stop from the client's own I/O loop";
  ConnectionPtr current;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    current = connection_;
  }
  if (connector_ != nullptr) connector_->Stop();
  if (current != nullptr) {
    current->Shutdown();
    // The connection's linger timer bounds this wait.
    absl::MutexLock lock(&mu_);
    auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return connection_ == nullptr;
    };
    mu_.Await(absl::Condition(&closed));
  }
  loop_thread_->Stop();
}

}  // namespace tao
