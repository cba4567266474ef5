// Client: one outgoing connection with the same callbacks as Server, and
// optional reconnection with exponential backoff and jitter.
//
//   tao::ClientOptions options;
//   options.reconnect.enabled = true;
//   tao::Client client(options);
//   client.OnData([](tao::Connection& c, tao::Buffer& in) { ... });
//   client.OnConnectFailed([](const absl::Status& s, bool will_retry) {});
//   absl::Status connecting = client.Connect("127.0.0.1:12345");
//   ...
//   client.Send("hello");
//   client.Stop();
//
// The client runs its own I/O loop thread. With reconnection enabled, a
// failed attempt or a lost connection schedules another attempt; OnConnect
// runs for each new connection and OnClose for each lost one.
//
// Thread safety: set callbacks before Connect (not thread safe). Connect,
// Stop from a controlling thread (Stop never from the client's own loop).
// connection(), Send and the accessors are safe from any thread.
#ifndef TAO_NET_CLIENT_H_
#define TAO_NET_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/options.h"
#include "tao/timer/timer_queue.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Codec;
class Connector;
class MessageStack;
class EventLoop;
class EventLoopThread;
class Registry;

class Client {
 public:
  // A connect attempt failed; `will_retry` says whether another follows.
  using ConnectFailedCallback =
      std::function<void(const absl::Status& error, bool will_retry)>;

  explicit Client(ClientOptions options = {});
  // A message client: frames are decoded with options.codec and handled by
  // `registry`'s handlers. `registry` must outlive the client.
  Client(ClientOptions options, const Registry* registry);
  ~Client();  // Stop()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // --- Callbacks (before Connect) ---
  void OnConnect(ConnectCallback cb) { handlers_->on_connect = std::move(cb); }
  void OnClose(CloseCallback cb) { handlers_->on_close = std::move(cb); }
  void OnError(ErrorCallback cb) { handlers_->on_error = std::move(cb); }
  void OnData(DataCallback cb) { handlers_->on_data = std::move(cb); }
  void OnHighWaterMark(HighWaterMarkCallback cb) {
    handlers_->on_high_water_mark = std::move(cb);
  }
  void OnLowWaterMark(LowWaterMarkCallback cb) {
    handlers_->on_low_water_mark = std::move(cb);
  }
  void OnConnectFailed(ConnectFailedCallback cb) {
    on_connect_failed_ = std::move(cb);
  }
  // Reader/writer idle per ClientOptions::heartbeat.
  void OnIdle(IdleCallback cb) { on_idle_ = std::move(cb); }

  // Starts connecting; the outcome arrives through OnConnect or
  // OnConnectFailed. INVALID_ARGUMENT for a bad address,
  // FAILED_PRECONDITION when called twice.
  absl::Status Connect(absl::string_view address);

  // Blocks until a connection is up (OK), the connector gave up (its last
  // error) or `timeout` passed (DEADLINE_EXCEEDED). Not from the client's
  // own loop.
  absl::Status WaitConnected(absl::Duration timeout);

  // The current connection, or nullptr.
  ConnectionPtr connection() const;
  // Sends on the current connection; UNAVAILABLE when there is none.
  absl::Status Send(absl::string_view bytes);
  absl::Status Send(const google::protobuf::Message& message);
  absl::Status SendRaw(int32_t type, absl::string_view payload);

  // Stops reconnecting, shuts the connection down gracefully (bounded by
  // ConnectionOptions::linger) and joins the loop thread. Idempotent.
  void Stop();

  EventLoop* loop() const;

  // Runs `fn` every `interval` on the client's loop until Stop.
  // FAILED_PRECONDITION before Connect().
  absl::StatusOr<TimerId> Sched(absl::Duration interval,
                                absl::AnyInvocable<void()> fn);
  void CancelSched(TimerId id);

 private:
  absl::StatusOr<ConnectionPtr> Connected() const;
  void HandleConnected(Socket socket);
  void HandleClosed(Connection& connection);
  // A connect attempt that failed after the socket connected (transport
  // refused, handshake failed): reported and retried like a refused connect.
  void HandleFailedAttempt(const absl::Status& error);

  const ClientOptions options_;
  const Registry* const registry_;  // may be null
  // One copy shared by every connection.
  const std::shared_ptr<const ConnectionOptions> connection_options_;
  const std::shared_ptr<const Codec> codec_;
  IdleCallback on_idle_;
  std::unique_ptr<MessageStack> stack_;  // created by Connect()
  const std::shared_ptr<Connection::Handlers> handlers_;
  ConnectFailedCallback on_connect_failed_;
  std::unique_ptr<EventLoopThread> loop_thread_;
  std::shared_ptr<Connector> connector_;
  std::string server_name_;  // the dialled host, for TLS
  std::atomic<uint64_t> next_id_{1};

  mutable absl::Mutex mu_;
  ConnectionPtr connection_ ABSL_GUARDED_BY(mu_);
  // connection_ passed its handshake and OnConnect.
  bool established_ ABSL_GUARDED_BY(mu_) = false;
  // Established connections lost so far, and the last one's close reason.
  uint64_t lost_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_loss_ ABSL_GUARDED_BY(mu_);
  int failed_attempts_ = 0;  // loop thread only
  // The error of a connect attempt after which no retry follows.
  absl::Status gave_up_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tao

#endif  // TAO_NET_CLIENT_H_
