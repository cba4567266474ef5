// Client: the message client. A TcpClient whose connection handler decodes
// frames, dispatches them to the Registry's handlers and runs heartbeats;
// the same registry and handlers as a Server.
//
//   tao::ClientOptions options;
//   options.reconnect.enabled = true;
//   tao::Client client(options, &registry);   // or (..., &shared_loops)
//   absl::Status connecting = client.Connect("localhost:12345");
//   absl::Status up = client.WaitConnected(absl::Seconds(5));
//   absl::Status sent = client.Send(hello);
//   client.Stop();
//
// Many clients share the loops of one EventLoopThreadPool (a gateway's
// upstreams, a bot swarm): each Client is one connection on one of them.
// Handlers run inline on that loop by default (ClientOptions).
//
// Thread safety: the On* setters before Connect (not thread safe). Connect,
// WaitConnected and Stop from a thread that is not the client's loop;
// everything else from any thread.
#ifndef TAO_MESSAGE_CLIENT_H_
#define TAO_MESSAGE_CLIENT_H_

#include <cstdint>
#include <functional>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/message/endpoint.h"
#include "tao/message/message_core.h"
#include "tao/message/options.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/tcp_client.h"
#include "tao/timer/timer_queue.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class EventLoop;
class EventLoopThreadPool;
class Registry;

class Client final : public MessageEndpoint {
 public:
  using ConnectFailedCallback = TcpClient::ConnectFailedCallback;

  // `registry` (may be null: incoming frames are only counted) must outlive
  // the client; so must `loops` (nullptr: a loop thread of its own).
  Client(ClientOptions options, const Registry* registry,
         EventLoopThreadPool* loops = nullptr);
  ~Client() override;  // Stop()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // OnConnect, OnClose, OnError, OnHighWaterMark, OnLowWaterMark, OnIdle,
  // metrics, ListenMetrics: see MessageEndpoint (before Connect). The
  // counts per message type cover the types registered when the client
  // was constructed.
  void OnConnectFailed(ConnectFailedCallback cb) {
    tcp_.OnConnectFailed(std::move(cb));
  }

  // See TcpClient. INVALID_ARGUMENT also for a bad handler_threads.
  absl::Status Connect(absl::string_view address);
  absl::Status WaitConnected(absl::Duration timeout) {
    return tcp_.WaitConnected(timeout);
  }
  // Stops connecting, closes gracefully, runs queued handlers, joins.
  void Stop();

  // The current connection, or nullptr.
  ConnectionPtr connection() const { return tcp_.connection(); }
  // Sends on the current connection; UNAVAILABLE when there is none.
  absl::Status Send(const google::protobuf::Message& message);
  absl::Status SendRaw(int32_t type, absl::string_view payload);
  using Endpoint::Send;  // Send(connection, message)
  using Endpoint::SendRaw;

  // --- Endpoint (the current connection, if any) ---
  ConnectionPtr Find(uint64_t id) const override;
  void ForEach(
      const std::function<void(const ConnectionPtr&)>& fn) const override;
  size_t connection_count() const override;

  MessageStats stats() const { return core_.stats(); }
  EventLoop* loop() const { return tcp_.loop(); }
  const ClientOptions& options() const { return options_; }
  // The byte layer underneath (Sched timers on the client's loop, ...).
  TcpClient& tcp() { return tcp_; }

 private:
  const ClientOptions options_;
  // (MessageEndpoint::core_ outlives tcp_'s connections: a base.)
  absl::Status start_status_;  // of core_.Start()
  TcpClient tcp_;
  uint64_t collector_ = 0;  // of metrics_: this client's numbers
};

}  // namespace tao

#endif  // TAO_MESSAGE_CLIENT_H_
