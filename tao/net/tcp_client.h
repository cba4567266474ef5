// TcpClient: one outgoing connection, optionally re-established after a
// failure or a loss (exponential backoff with jitter), whose events go to a
// handler made by its factory (connection_handler.h). Bytes only.
//
//   tao::EventLoopThreadPool loops(2);          // shared by many clients
//   loops.Start();
//   tao::TcpClient client(options, [] { return std::make_unique<Bot>(); },
//                         &loops);
//   client.OnConnectFailed([](const absl::Status& s, bool will_retry) {});
//   absl::Status connecting = client.Connect("localhost:12345");
//   ...
//   client.Stop();
//
// Loops: a client runs on one loop of the pool it is given (round-robin), so
// a thousand clients on a pool of two loops use two threads. Without a pool
// it starts a loop thread of its own (the simple single-connection case).
//
// Addresses: "1.2.3.4:80", "[::1]:80", "localhost:80", "unix:/path", and
// host names ("example.com:443"), looked up on the resolver's helper thread
// (resolver.h) so the loop never blocks; an unknown host fails the connect
// with NOT_FOUND naming it. A name is resolved once per Connect; reconnects
// go to the same address. The name is the TLS server name.
//
// Thread safety: OnConnectFailed before Connect (not thread safe). Connect,
// WaitConnected and Stop from a thread that is not the client's loop.
// connection(), Send, loop() and Sched are safe from any thread.
#ifndef TAO_NET_TCP_CLIENT_H_
#define TAO_NET_TCP_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class Connector;
class EventLoop;
class EventLoopThread;
class EventLoopThreadPool;
class ResolveRequest;
class Socket;

class TcpClient final : private ConnectionOwner {
 public:
  // A connect attempt failed; `will_retry` says whether another follows.
  using ConnectFailedCallback =
      std::function<void(const absl::Status& error, bool will_retry)>;

  // `loops`: a started pool to run on (it must outlive the client), or
  // nullptr for a loop thread of the client's own.
  TcpClient(TcpClientOptions options, ConnectionHandlerFactory factory,
            EventLoopThreadPool* loops = nullptr);
  ~TcpClient() override;  // Stop()
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Runs on the client's loop.
  void OnConnectFailed(ConnectFailedCallback cb) {
    on_connect_failed_ = std::move(cb);
  }

  // Starts connecting; the outcome arrives through the handler's
  // OnConnected or OnConnectFailed. INVALID_ARGUMENT for a bad address,
  // FAILED_PRECONDITION when called twice or after Stop.
  absl::Status Connect(absl::string_view address);

  // Blocks until a connection is up (OK), the client gave up (its last
  // error, e.g. NOT_FOUND for an unknown host) or `timeout` passed
  // (DEADLINE_EXCEEDED).
  absl::Status WaitConnected(absl::Duration timeout);

  // The current connection, or nullptr.
  ConnectionPtr connection() const;
  // Sends on the current connection; UNAVAILABLE when there is none.
  absl::Status Send(absl::string_view bytes);
  absl::Status Send(const absl::Cord& bytes);

  // Stops reconnecting, shuts the connection down gracefully (bounded by
  // ConnectionOptions::linger), waits until nothing of this client runs on
  // its loop any more, and joins its own loop thread. Idempotent.
  void Stop();

  // The loop the client runs on (nullptr before Connect and after Stop
  // without a pool).
  EventLoop* loop() const { return loop_.load(std::memory_order_acquire); }

  // Runs `fn` every `interval` on the client's loop until Stop (which
  // cancels it, also on a shared pool). FAILED_PRECONDITION before
  // Connect() and after Stop().
  absl::StatusOr<TimerId> Sched(absl::Duration interval,
                                absl::AnyInvocable<void()> fn);
  // No-op for ids this client's Sched did not return (a shared loop runs
  // other clients' timers too) and after Stop.
  void CancelSched(TimerId id);

  const TcpClientOptions& options() const { return options_; }

 private:
  absl::StatusOr<ConnectionPtr> Connected() const;
  void StartConnector(EventLoop* loop, const InetAddress& address)
      ABSL_LOCKS_EXCLUDED(mu_);
  void GiveUp(const absl::Status& error);
  void HandleConnected(Socket socket);
  // A connect attempt that failed after the socket connected (transport
  // refused, handshake failed): reported and retried like a refused connect.
  void HandleFailedAttempt(const absl::Status& error);
  // ConnectionOwner
  void OnEstablished(Connection& connection) override;
  void OnClosed(Connection& connection) override;

  const TcpClientOptions options_;
  const ConnectionHandlerFactory factory_;
  EventLoopThreadPool* const shared_loops_;  // may be null
  // One copy shared by every connection.
  const std::shared_ptr<const ConnectionOptions> connection_options_;
  ConnectFailedCallback on_connect_failed_;
  std::unique_ptr<EventLoopThread> own_loop_;  // without shared_loops_
  std::atomic<EventLoop*> loop_{nullptr};
  std::string server_name_;  // the dialled host, for TLS
  std::atomic<uint64_t> next_id_{1};

  mutable absl::Mutex mu_;
  bool connect_called_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<ResolveRequest> resolving_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Connector> connector_ ABSL_GUARDED_BY(mu_);
  ConnectionPtr connection_ ABSL_GUARDED_BY(mu_);
  // connection_ passed its handshake and OnConnected.
  bool established_ ABSL_GUARDED_BY(mu_) = false;
  // Established connections lost so far, and the last one's close reason.
  uint64_t lost_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_loss_ ABSL_GUARDED_BY(mu_);
  // Loop thread only: consecutive failed attempts, and when the current
  // connection was established.
  int failed_attempts_ = 0;
  MonoTime established_at_{};
  // The error after which no retry follows.
  absl::Status gave_up_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Timers made by Sched and not cancelled; Stop cancels them.
  absl::flat_hash_set<uint64_t> scheds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_NET_TCP_CLIENT_H_
