#include "tao/net/client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/message.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/message/message_stack.h"
#include "tao/net/connector.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
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

Client::Client(ClientOptions options) : Client(std::move(options), nullptr) {}

Client::Client(ClientOptions options, const Registry* registry)
    : options_(std::move(options)),
      registry_(registry),
      connection_options_(
          std::make_shared<const ConnectionOptions>(options_.connection)),
      codec_(CodecOrDefault(options_.codec)),
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
  server_name_ = parsed.is_ip() ? HostOf(address) : std::string();
  // Marks the connection established (after the handshake and the user's
  // OnConnect accepted it) for WaitConnected and failure accounting.
  handlers_->on_connect =
      [this, user = std::move(handlers_->on_connect)](Connection& c) {
        if (user && !user(c)) return false;
        absl::MutexLock lock(&mu_);
        if (connection_.get() == &c) {
          established_ = true;
          failed_attempts_ = 0;
        }
        return true;
      };
  TAO_ASSIGN_OR_RETURN(
      stack_, MessageStack::Install(options_, registry_, codec_.get(), nullptr,
                                    this, on_idle_, handlers_));
  EventLoop* loop = loop_thread_->Start();
  connector_ = std::make_shared<Connector>(
      loop, parsed, options_.connect_timeout, options_.reconnect);
  connector_->Start(
      [this](Socket socket) { HandleConnected(std::move(socket)); },
      [this](const absl::Status& error, bool will_retry) {
        if (!will_retry) {
          absl::MutexLock lock(&mu_);
          gave_up_ = error;
        }
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
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      MakeTransport(options_.tls.get(), std::move(socket), server_name_);
  if (!transport.ok()) {
    // e.g. the TLS context refused (handshake cap): a failed attempt.
    HandleFailedAttempt(transport.status());
    return;
  }
  auto connection = std::make_shared<Connection>(
      loop(), next_id_.fetch_add(1, std::memory_order_relaxed),
      *std::move(transport), local.ok() ? *local : InetAddress(),
      peer.ok() ? *peer : connector_->address(), connection_options_, handlers_,
      codec_, /*budget=*/nullptr,
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
  stack_->OnConnectionClosed(connection);
  bool was_established;
  bool reconnect;
  {
    absl::MutexLock lock(&mu_);
    was_established = established_;
    if (connection_.get() == &connection) {
      connection_.reset();
      established_ = false;
    }
    if (was_established) {
      ++lost_;
      last_loss_ = connection.close_reason();
    }
    reconnect = !stopping_ && options_.reconnect.enabled;
  }
  if (!was_established) {
    // Closed before OnConnect (a failed TLS handshake): a failed attempt.
    HandleFailedAttempt(connection.close_reason());
    return;
  }
  if (reconnect) connector_->Retry();
}

void Client::HandleFailedAttempt(const absl::Status& error) {
  ++failed_attempts_;
  const ReconnectPolicy& policy = options_.reconnect;
  bool will_retry;
  {
    absl::MutexLock lock(&mu_);
    will_retry =
        !stopping_ && policy.enabled &&
        (policy.max_attempts <= 0 || failed_attempts_ < policy.max_attempts);
    if (!will_retry)
      gave_up_ = error.ok() ? absl::UnavailableError(
                                  "connection closed during "
                                  "its handshake")
                            : error;
  }
  if (on_connect_failed_) on_connect_failed_(error, will_retry);
  if (will_retry) connector_->Retry();
}

absl::Status Client::WaitConnected(absl::Duration timeout) {
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

ConnectionPtr Client::connection() const {
  absl::MutexLock lock(&mu_);
  return connection_;
}

absl::StatusOr<ConnectionPtr> Client::Connected() const {
  ConnectionPtr current = connection();
  if (current == nullptr) {
    return absl::UnavailableError("client is not connected");
  }
  return current;
}

absl::Status Client::Send(absl::string_view bytes) {
  TAO_ASSIGN_OR_RETURN(ConnectionPtr current, Connected());
  return current->Send(bytes);
}

absl::Status Client::Send(const google::protobuf::Message& message) {
  TAO_ASSIGN_OR_RETURN(ConnectionPtr current, Connected());
  return current->Send(message);
}

absl::Status Client::SendRaw(int32_t type, absl::string_view payload) {
  TAO_ASSIGN_OR_RETURN(ConnectionPtr current, Connected());
  return current->SendRaw(type, payload);
}

absl::StatusOr<TimerId> Client::Sched(absl::Duration interval,
                                      absl::AnyInvocable<void()> fn) {
  if (loop() == nullptr) {
    return absl::FailedPreconditionError("Sched needs a started client");
  }
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Sched needs a positive interval");
  }
  return loop()->RunEvery(interval, std::move(fn));
}

void Client::CancelSched(TimerId id) {
  if (loop() != nullptr) loop()->Cancel(id);
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
  if (stack_ != nullptr) stack_->Shutdown();
  loop_thread_->Stop();
}

}  // namespace tao
