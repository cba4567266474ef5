// Server: accepts connections on N I/O loops and runs the user's callbacks.
//
//   tao::ServerOptions options;
//   options.io_threads = 2;
//   tao::Server server(options);
//   server.OnData([](tao::Connection& c, tao::Buffer& in) {
//     c.Send(in.view());
//     in.RetrieveAll();
//   });
//   absl::Status listening = server.Listen("127.0.0.1:0");
//   absl::Status started = server.Start();   // returns; Run() would block
//   ...
//   server.Stop(absl::Seconds(5));           // graceful; any thread
//   server.Join();                           // waits, joins threads
//
// Every connection lives on one loop for its whole life. Accepting is either
// one listener handing connections out round-robin or one SO_REUSEPORT
// listener per loop (ServerOptions::reuse_port).
//
// Shutdown: Stop(grace) stops accepting, then every connection flushes its
// queued output, sends FIN and waits for the peer's FIN; connections still
// open when `grace` expires are closed forcibly. Join() returns when every
// OnClose has run and all threads are joined. The process is never exited.
//
// Thread safety: set callbacks and call Listen before Start (not thread
// safe). Start/Run/Join from one controlling thread, never from an I/O
// loop. Stop, Find, Broadcast, Unicast, connection_count and stats are safe
// from any thread, including inside callbacks.
#ifndef TAO_NET_SERVER_H_
#define TAO_NET_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/concurrent/concurrent_map.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/timer/timer_queue.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Acceptor;
class Codec;
class MessageStack;
class EventLoop;
class EventLoopThreadPool;
class OutputBudget;
class Registry;

// Counters since Start(); a snapshot.
struct ServerStats {
  uint64_t accepted = 0;
  uint64_t refused_max_connections = 0;
  uint64_t refused_per_ip = 0;
  uint64_t refused_transport = 0;  // the transport (TLS) refused to wrap
  uint64_t dropped_fd_limit = 0;   // accepted and dropped: out of fds
  uint64_t closed_with_error = 0;  // I/O errors, bad input, caps, timeouts
  size_t connections = 0;
  size_t queued_output_bytes = 0;  // across all connections
  // Message layer (zero without a Registry).
  uint64_t messages = 0;
  uint64_t heartbeats = 0;
  uint64_t unknown_types = 0;
  uint64_t bad_frames = 0;
  uint64_t bad_payloads = 0;
  uint64_t closed_idle = 0;  // closed by the heartbeat timeout
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  // A message server: frames are decoded with options.codec and handled by
  // `registry`'s handlers (inline or on the worker pool, per
  // options.handler_threads). `registry` must outlive the server.
  Server(ServerOptions options, const Registry* registry);
  // Stops (no grace) and joins if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // --- Callbacks (before Start) ---
  void OnConnect(ConnectCallback cb) { handlers_->on_connect = std::move(cb); }
  void OnClose(CloseCallback cb) { handlers_->on_close = std::move(cb); }
  void OnError(ErrorCallback cb) { handlers_->on_error = std::move(cb); }
  // Byte-level input; only for a server without a Registry.
  void OnData(DataCallback cb) { handlers_->on_data = std::move(cb); }
  void OnHighWaterMark(HighWaterMarkCallback cb) {
    handlers_->on_high_water_mark = std::move(cb);
  }
  void OnLowWaterMark(LowWaterMarkCallback cb) {
    handlers_->on_low_water_mark = std::move(cb);
  }
  // Reader/writer idle per ServerOptions::heartbeat.
  void OnIdle(IdleCallback cb) { on_idle_ = std::move(cb); }

  // Binds and listens now, so listen_address() tells the port chosen for
  // ":0". Accepts "host:port", "[v6]:port", "unix:/path". Before Start.
  absl::Status Listen(absl::string_view address);
  const InetAddress& listen_address() const { return listen_address_; }

  // Starts the I/O loops and accepting; returns at once.
  absl::Status Start();
  // Start(), then block until Stop() has finished (Join()).
  absl::Status Run();
  // Begins a graceful shutdown bounded by `grace`. Any thread; idempotent.
  void Stop(absl::Duration grace = absl::Seconds(5));
  // Waits for Stop() to finish. Not from an I/O loop thread.
  void Join();

  // --- Connections (any thread) ---
  ConnectionPtr Find(uint64_t id) const;
  size_t connection_count() const { return connections_.size(); }
  // Queues the same bytes (shared, not copied) on every open connection.
  // Returns how many connections accepted them.
  size_t Broadcast(const absl::Cord& bytes);
  // NOT_FOUND when no connection has that id.
  absl::Status Unicast(uint64_t id, const absl::Cord& bytes);
  // Encodes `message` once and queues the shared frame everywhere.
  absl::StatusOr<size_t> Broadcast(const google::protobuf::Message& message);
  absl::StatusOr<size_t> BroadcastRaw(int32_t type, absl::string_view payload);
  absl::Status Unicast(uint64_t id, const google::protobuf::Message& message);

  ServerStats stats() const;

  // Runs `fn` every `interval` on the first I/O loop until Stop (no drift).
  // FAILED_PRECONDITION before Start().
  absl::StatusOr<TimerId> Sched(absl::Duration interval,
                                absl::AnyInvocable<void()> fn);
  void CancelSched(TimerId id);
  const ServerOptions& options() const { return options_; }
  const Codec& codec() const { return *codec_; }

 private:
  void HandleNewConnection(EventLoop* accept_loop, Socket socket,
                           const InetAddress& peer);
  void HandleConnectionClosed(Connection& connection);

  const ServerOptions options_;
  const Registry* const registry_;  // may be null
  // One copy shared by every connection.
  const std::shared_ptr<const ConnectionOptions> connection_options_;
  const std::shared_ptr<const Codec> codec_;
  IdleCallback on_idle_;
  // Dispatcher + heartbeats; created by Start(), outlives the loops.
  std::unique_ptr<MessageStack> stack_;
  const std::shared_ptr<Connection::Handlers> handlers_;
  const std::shared_ptr<OutputBudget> budget_;

  std::vector<Socket> listeners_;  // until Start hands them to acceptors
  InetAddress listen_address_;
  std::unique_ptr<EventLoopThreadPool> loops_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  // Set by Start() once loops_ and acceptors_ are ready (under mu_, so
  // Stop() sees all of them or none); read anywhere.
  std::atomic<bool> started_{false};
  std::atomic<bool> joined_{false};

  ConcurrentMap<uint64_t, ConnectionPtr> connections_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<size_t> open_count_{0};  // admitted and not yet closed

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_max_connections_{0};
  std::atomic<uint64_t> refused_per_ip_{0};
  std::atomic<uint64_t> refused_transport_{0};
  std::atomic<uint64_t> closed_with_error_{0};

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Stop() finished posting its work to the loops; Join may stop them.
  bool stop_dispatched_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, size_t> per_ip_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_NET_SERVER_H_
