#include "tao/net/tcp_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/net/connector.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/resolver.h"
#include "tao/net/transport.h"

namespace tao {
namespace {

// The host part of "host:port" / "[v6]:port" as the user wrote it (a name
// like "localhost" matters for TLS SNI and certificate checks).
std::string HostOf(absl::string_view address) {
  if (absl::ConsumePrefix(&address, "[")) {
    return std::string(address.substr(0, address.find(']')));
  }
  size_t colon = address.rfind(':');
  return std::string(address.substr(0, colon));
}

}  // namespace

TcpClient::TcpClient(TcpClientOptions options, ConnectionHandlerFactory factory,
                     EventLoopThreadPool* loops)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      shared_loops_(loops),
      connection_options_(
          std::make_shared<const ConnectionOptions>(options_.connection)) {}

TcpClient::~TcpClient() { Stop(); }

absl::Status TcpClient::Connect(absl::string_view address) {
  {
    absl::MutexLock lock(&mu_);
    if (connect_called_ || stopping_) {
      return absl::FailedPreconditionError(
          stopping_ ? "TcpClient::Connect after Stop"
                    : "TcpClient::Connect called twice; use one client per "
                      "connection");
    }
  }
  std::optional<HostPort> name = ParseHostName(address);
  absl::StatusOr<InetAddress> parsed = InetAddress();
  if (!name.has_value()) {
    parsed = InetAddress::Parse(address);
    if (!parsed.ok()) return parsed.status();
    server_name_ = parsed->is_ip() ? HostOf(address) : std::string();
  } else {
    server_name_ = name->host;
  }
  EventLoop* loop;
  if (shared_loops_ != nullptr) {
    loop = shared_loops_->GetNextLoop();
  } else {
    own_loop_ = std::make_unique<EventLoopThread>();
    loop = own_loop_->Start();
  }
  loop_.store(loop, std::memory_order_release);
  {
    absl::MutexLock lock(&mu_);
    connect_called_ = true;
    if (name.has_value()) {
      resolving_ =
          ResolveOnLoop(loop, name->host, name->port,
                        [this, loop](absl::StatusOr<InetAddress> resolved) {
                          {
                            absl::MutexLock lock(&mu_);
                            if (stopping_) return;
                            resolving_.reset();
                          }
                          if (resolved.ok()) {
                            StartConnector(loop, *resolved);
                          } else {
                            GiveUp(resolved.status());
                          }
                        });
      return absl::OkStatus();
    }
  }
  StartConnector(loop, *parsed);
  return absl::OkStatus();
}

void TcpClient::StartConnector(EventLoop* loop, const InetAddress& address) {
  std::shared_ptr<Connector> connector;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    connector_ = std::make_shared<Connector>(
        loop, address, options_.connect_timeout, options_.reconnect);
    connector = connector_;
  }
  // Without mu_: on the loop thread the first attempt runs inline.
  connector->Start(
      [this](Socket socket) { HandleConnected(std::move(socket)); },
      [this](const absl::Status& error, bool will_retry) {
        if (!will_retry) {
          absl::MutexLock lock(&mu_);
          gave_up_ = error;
        }
        if (on_connect_failed_) on_connect_failed_(error, will_retry);
      });
}

void TcpClient::GiveUp(const absl::Status& error) {
  {
    absl::MutexLock lock(&mu_);
    gave_up_ = error;
  }
  if (on_connect_failed_) on_connect_failed_(error, /*will_retry=*/false);
}

void TcpClient::HandleConnected(Socket socket) {
  absl::StatusOr<InetAddress> local = socket.LocalAddress();
  absl::StatusOr<InetAddress> peer = socket.PeerAddress();
  if (peer.ok() && peer->is_ip()) {
    if (options_.connection.tcp_no_delay) (void)socket.SetTcpNoDelay(true);
    if (options_.connection.keep_alive) (void)socket.SetKeepAlive(true);
  }
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      MakeTransport(options_.tls.get(), std::move(socket), server_name_);
  if (!transport.ok()) {
    // e.g. the TLS context refused (handshake cap): a failed attempt.
    HandleFailedAttempt(transport.status());
    return;
  }
  // Made before taking mu_: the user's factory may call back into us.
  std::unique_ptr<ConnectionHandler> handler = factory_();
  ConnectionPtr connection;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // the transport closes the socket
    connection = std::make_shared<Connection>(
        loop(), next_id_.fetch_add(1, std::memory_order_relaxed),
        *std::move(transport), local.ok() ? *local : InetAddress(),
        peer.ok() ? *peer : connector_->address(), connection_options_,
        std::move(handler), /*budget=*/nullptr,
        static_cast<ConnectionOwner*>(this));
    connection_ = connection;
  }
  connection->Establish();
}

void TcpClient::OnEstablished(Connection& connection) {
  absl::MutexLock lock(&mu_);
  if (connection_.get() == &connection) {
    established_ = true;
    established_at_ = connection.loop()->Now();
  }
}

void TcpClient::OnClosed(Connection& connection) {
  bool was_established = false;
  bool reconnect;
  std::shared_ptr<Connector> connector;
  {
    absl::MutexLock lock(&mu_);
    if (connection_.get() == &connection) {
      was_established = established_;
      connection_.reset();
      established_ = false;
    }
    if (was_established) {
      ++lost_;
      last_loss_ = connection.close_reason();
    }
    reconnect = !stopping_ && options_.reconnect.enabled;
    connector = connector_;
  }
  if (!was_established) {
    // Closed before OnConnected (a failed TLS handshake): a failed attempt.
    HandleFailedAttempt(connection.close_reason());
    return;
  }
  if (!reconnect || connector == nullptr) return;
  const absl::Duration uptime =
      ToDuration(connection.loop()->Now() - established_at_);
  if (connection.bytes_read() == 0 &&
      uptime < options_.reconnect.healthy_after) {
    // Died before it was useful (e.g. a server that accepts and closes).
    HandleFailedAttempt(absl::UnavailableError(
        absl::StrCat("connection to ", connection.peer_address().ToString(),
                     " closed after ", absl::FormatDuration(uptime),
                     " without data: ", connection.close_reason().ToString())));
    return;
  }
  failed_attempts_ = 0;
  connector->ResetBackoff();
  connector->Retry();
}

void TcpClient::HandleFailedAttempt(const absl::Status& error) {
  ++failed_attempts_;
  const ReconnectPolicy& policy = options_.reconnect;
  bool will_retry;
  std::shared_ptr<Connector> connector;
  {
    absl::MutexLock lock(&mu_);
    will_retry =
        !stopping_ && policy.enabled &&
        (policy.max_attempts <= 0 || failed_attempts_ < policy.max_attempts);
    if (!will_retry) {
      gave_up_ =
          error.ok()
              ? absl::UnavailableError("connection closed during its handshake")
              : error;
    }
    connector = connector_;
  }
  if (on_connect_failed_) on_connect_failed_(error, will_retry);
  if (will_retry && connector != nullptr) connector->Retry();
}

absl::Status TcpClient::WaitConnected(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const uint64_t lost_before = lost_;
  auto settled = [this, lost_before]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return established_ || !gave_up_.ok() || lost_ != lost_before;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&settled), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("not connected within ", absl::FormatDuration(timeout)));
  }
  if (established_) return absl::OkStatus();
  if (!gave_up_.ok()) return gave_up_;
  // Established and lost again before we looked (e.g. the server refused
  // our certificate after a TLS 1.3 handshake finished on our side).
  return absl::UnavailableError(
      absl::StrCat("connection lost right after it was established: ",
                   last_loss_.ToString()));
}

ConnectionPtr TcpClient::connection() const {
  absl::MutexLock lock(&mu_);
  return connection_;
}

absl::StatusOr<ConnectionPtr> TcpClient::Connected() const {
  ConnectionPtr current = connection();
  if (current == nullptr) {
    return absl::UnavailableError("client is not connected");
  }
  return current;
}

absl::Status TcpClient::Send(absl::string_view bytes) {
  TAO_ASSIGN_OR_RETURN(ConnectionPtr current, Connected());
  return current->Send(bytes);
}

absl::Status TcpClient::Send(const absl::Cord& bytes) {
  TAO_ASSIGN_OR_RETURN(ConnectionPtr current, Connected());
  return current->Send(bytes);
}

absl::StatusOr<TimerId> TcpClient::Sched(absl::Duration interval,
                                         absl::AnyInvocable<void()> fn) {
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Sched needs a positive interval");
  }
  absl::MutexLock lock(&mu_);
  EventLoop* const loop = this->loop();
  if (loop == nullptr || !connect_called_ || stopping_) {
    return absl::FailedPreconditionError("Sched needs a started client");
  }
  // Remembered, so that Stop cancels it: on a shared pool the loop runs on.
  const TimerId id = loop->RunEvery(interval, std::move(fn));
  scheds_.insert(id.value);
  return id;
}

void TcpClient::CancelSched(TimerId id) {
  EventLoop* loop;
  {
    absl::MutexLock lock(&mu_);
    // Not ours: on a shared loop it may be another client's timer.
    if (scheds_.erase(id.value) == 0) return;
    loop = this->loop();
  }
  loop->Cancel(id);
}

void TcpClient::Stop() {
  EventLoop* const loop = this->loop();
  std::shared_ptr<ResolveRequest> resolving;
  std::shared_ptr<Connector> connector;
  ConnectionPtr current;
  absl::flat_hash_set<uint64_t> scheds;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopping_ = true;
    if (!connect_called_) {
      stopped_ = true;
      return;
    }
    resolving = resolving_;
    connector = connector_;
    current = connection_;
    scheds.swap(scheds_);
  }
  TAO_CHECK(!loop->IsInLoopThread())
      << "TcpClient::Stop from the client's own I/O loop";
  if (resolving != nullptr) resolving->Cancel();
  if (connector != nullptr) connector->Stop();
  // Queued before the drain marker below, so no tick runs after Stop.
  for (uint64_t id : scheds) loop->Cancel(TimerId{id});
  if (current != nullptr) {
    current->Shutdown();
    // The connection's linger timer bounds this wait.
    absl::MutexLock lock(&mu_);
    auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return connection_ == nullptr;
    };
    mu_.Await(absl::Condition(&closed));
  }
  // Whatever of ours is still queued on the loop (a resolver answer, a
  // connector callback, a connection's last tasks) runs before this.
  absl::Notification drained;
  loop->QueueInLoop([&drained] { drained.Notify(); });
  drained.WaitForNotification();
  if (own_loop_ != nullptr) {
    own_loop_->Stop();
    // Gone with its thread: loop() must not hand out a dangling pointer.
    loop_.store(nullptr, std::memory_order_release);
  }
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

}  // namespace tao
