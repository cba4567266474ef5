// Server: the message server. A TcpServer whose connection handlers decode
// frames with the codec, dispatch them to the Registry's handlers (inline or
// on the worker pool) and run heartbeats.
//
//   tao::Registry registry;
//   (void)registry.Register<chat::ChatMessage>(
//       [](tao::Context& ctx, const chat::ChatMessage& msg) {
//         (void)ctx.endpoint().Broadcast(msg);
//       });
//   tao::ServerOptions options;
//   tao::Server server(options, &registry);
//   absl::Status listening = server.Listen("0.0.0.0:12345");
//   absl::Status ran = server.Run();     // or Start(); ... Stop(); Join();
//
// Shutdown: Stop(grace) stops accepting, answers what was read, flushes
// queued output and closes every connection (bounded by `grace`); Join()
// waits for that, runs the handlers still queued on the workers and joins
// every thread.
//
// Thread safety: the On* setters and Listen before Start (not thread safe).
// Start/Run/Join from one controlling thread, never from an I/O loop or a
// handler. Everything else is safe from any thread, including handlers.
#ifndef TAO_MESSAGE_SERVER_H_
#define TAO_MESSAGE_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

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
#include "tao/net/inet_address.h"
#include "tao/net/tcp_server.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class Registry;

// The byte layer's counters plus the message layer's; a snapshot.
struct ServerStats : TcpServerStats, MessageStats {};

class Server final : public MessageEndpoint {
 public:
  // `registry` (may be null: no handlers) must outlive the server.
  Server(ServerOptions options, const Registry* registry);
  // Stops (no grace) and joins if still running.
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // OnConnect, OnClose, OnError, OnHighWaterMark, OnLowWaterMark, OnIdle,
  // metrics, ListenMetrics: see MessageEndpoint (before Start).

  // See TcpServer.
  absl::Status Listen(absl::string_view address) {
    return tcp_.Listen(address);
  }
  const InetAddress& listen_address() const { return tcp_.listen_address(); }
  absl::Status Start();
  absl::Status Run();
  // Also turns /healthz of the metrics listener (ListenMetrics) to 503.
  void Stop(absl::Duration grace = absl::Seconds(5));
  void Join();

  // --- Endpoint ---
  ConnectionPtr Find(uint64_t id) const override { return tcp_.Find(id); }
  void ForEach(
      const std::function<void(const ConnectionPtr&)>& fn) const override {
    tcp_.ForEach(fn);
  }
  size_t connection_count() const override { return tcp_.connection_count(); }
  size_t BroadcastFrame(const absl::Cord& frame) const override {
    return tcp_.Broadcast(frame);
  }
  size_t MulticastFrame(const std::vector<ConnectionPtr>& connections,
                        const absl::Cord& frame) const override {
    return tcp_.Multicast(connections, frame);
  }

  ServerStats stats() const;
  // Runs `fn` every `interval` on the first I/O loop until Stop (no drift).
  absl::StatusOr<TimerId> Sched(absl::Duration interval,
                                absl::AnyInvocable<void()> fn) {
    return tcp_.Sched(interval, std::move(fn));
  }
  void CancelSched(TimerId id) { tcp_.CancelSched(id); }
  const ServerOptions& options() const { return options_; }
  // The byte layer underneath (its stats, Broadcast of raw bytes).
  TcpServer& tcp() { return tcp_; }

 private:
  const ServerOptions options_;
  // (MessageEndpoint::core_ outlives tcp_'s connections: a base.)
  TcpServer tcp_;
  uint64_t collector_ = 0;  // of metrics_: this server's numbers
};

}  // namespace tao

#endif  // TAO_MESSAGE_SERVER_H_
