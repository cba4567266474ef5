// TcpServer: accepts connections on N I/O loops and gives each one a handler
// made by its factory (connection_handler.h). Bytes only: framing, messages
// and heartbeats are the handler's business (the message layer's Server is
// a TcpServer whose handlers decode frames).
//
//   tao::TcpServerOptions options;
//   options.io_threads = 2;
//   tao::TcpServer server(options, [] { return std::make_unique<Echo>(); });
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
// Behind a load balancer (TcpServerOptions::proxy_protocol): a connection
// from a trusted peer first has its PROXY header read on a loop (a
// ProxyHeaderReader, before TLS and the limits); its claimed source address
// then stands for the peer everywhere. Stop cancels headers still pending.
//
// Shutdown: Stop(grace) stops accepting, then every connection flushes its
// queued output, sends FIN and waits for the peer's FIN; connections still
// open when `grace` expires are closed forcibly. Join() returns when every
// OnClosed has run and all threads are joined. The process is never exited.
//
// Thread safety: Listen before Start (not thread safe). Start/Run/Join from
// one controlling thread, never from an I/O loop. Stop, Find, ForEach,
// Broadcast, Unicast, connection_count and stats are safe from any thread,
// including inside handlers.
#ifndef TAO_NET_TCP_SERVER_H_
#define TAO_NET_TCP_SERVER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/concurrent/concurrent_map.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/inet_address.h"
#include "tao/net/ip_range.h"
#include "tao/net/options.h"
#include "tao/net/proxy_protocol.h"
#include "tao/net/socket.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class Acceptor;
class EventLoop;
class EventLoopThreadPool;
class OutputBudget;
class ProxyHeaderReader;

// absl::StatusCode values: OK (0) to UNAUTHENTICATED (16).
inline constexpr size_t kNumStatusCodes = 17;

// Counters since Start(); a snapshot.
struct TcpServerStats {
  uint64_t accepted = 0;
  uint64_t refused_max_connections = 0;
  uint64_t refused_per_ip = 0;
  uint64_t refused_transport = 0;  // the transport (TLS) refused to wrap
  uint64_t dropped_fd_limit = 0;   // accepted and dropped: out of fds
  uint64_t accept_errors = 0;      // accept(2) failed (EMFILE, ENOBUFS, ...)
  uint64_t closed_with_error = 0;  // I/O errors, bad input, caps, timeouts
  size_t connections = 0;
  size_t queued_output_bytes = 0;  // across all connections
  // Closed because they held the most queued output when the server-wide
  // budget (max_total_output_bytes) could not take another connection's
  // send.
  uint64_t closed_over_budget = 0;
  // Closed to make room for a new connection while max_connections were
  // open (TcpServerOptions::evict_idle_after).
  uint64_t evicted_idle = 0;
  // Closed for holding the most unconsumed input while the server-wide
  // bound (max_total_held_input_bytes) was exceeded.
  uint64_t closed_over_input_bound = 0;
  size_t held_input_bytes = 0;  // across all connections
  // Bytes read from and written to connections (TLS: the encrypted bytes).
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  // Connections closed, by the absl::StatusCode of their close reason (OK:
  // an orderly close by either side; CANCELLED: refused by OnConnected or
  // closed by Stop).
  std::array<uint64_t, kNumStatusCodes> closed_by_code{};
  // PROXY protocol (TcpServerOptions::proxy_protocol): headers read from
  // trusted peers; trusted connections closed for a malformed or oversize
  // header, the peer closing first, or too many pending headers; closed
  // for no complete header within header_timeout; connections from
  // untrusted peers refused for sending a header.
  uint64_t proxy_headers = 0;
  uint64_t proxy_header_errors = 0;
  uint64_t proxy_header_timeouts = 0;
  uint64_t proxy_untrusted_refused = 0;
  size_t proxy_headers_pending = 0;  // trusted connections still reading
};

class TcpServer final : private ConnectionOwner {
 public:
  // `factory` makes the handler of every accepted connection.
  TcpServer(TcpServerOptions options, ConnectionHandlerFactory factory);
  // Stops (no grace) and joins if still running.
  ~TcpServer() override;
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds and listens now, so listen_address() tells the port chosen for
  // ":0". Accepts "host:port", "[v6]:port", "unix:/path". Before Start.
  absl::Status Listen(absl::string_view address);
  const InetAddress& listen_address() const { return listen_address_; }

  // Starts the I/O loops and accepting; returns at once. INVALID_ARGUMENT
  // for a bad io_threads. Raises the process's soft open-file limit to its
  // hard limit (as Go's runtime does), logging the change, so the server
  // can hold as many connections as the process may open.
  absl::Status Start();
  // Start(), then block until Stop() has finished (Join()).
  absl::Status Run();
  // Begins a graceful shutdown bounded by `grace`. Any thread; idempotent.
  void Stop(absl::Duration grace = absl::Seconds(5));
  // Waits for Stop() to finish. Not from an I/O loop thread.
  void Join();
  // The same, running `before_loops_stop` once every connection has closed
  // and while the loops still run (e.g. to drain work that may post to
  // them).
  void Join(absl::FunctionRef<void()> before_loops_stop);

  // --- Connections (any thread) ---
  // nullptr when no open connection has that id.
  ConnectionPtr Find(uint64_t id) const;
  // Calls `fn` for every open connection (a snapshot; `fn` runs on the
  // calling thread, so it may only use Connection's any-thread methods).
  void ForEach(const std::function<void(const ConnectionPtr&)>& fn) const;
  size_t connection_count() const { return connections_.size(); }
  // Queues the same bytes (shared, not copied) on every open connection;
  // the server-wide budget is charged for them once. Returns how many
  // connections accepted them.
  size_t Broadcast(const absl::Cord& bytes) const;
  // The same to `connections` (of this server; e.g. a group's members).
  size_t Multicast(const std::vector<ConnectionPtr>& connections,
                   const absl::Cord& bytes) const;
  // NOT_FOUND when no connection has that id.
  absl::Status Unicast(uint64_t id, const absl::Cord& bytes);

  TcpServerStats stats() const;

  // Runs `fn` every `interval` on the first I/O loop until Stop (no drift).
  // FAILED_PRECONDITION before Start().
  absl::StatusOr<TimerId> Sched(absl::Duration interval,
                                absl::AnyInvocable<void()> fn);
  void CancelSched(TimerId id);
  const TcpServerOptions& options() const { return options_; }

  // I/O loop `i` (i < the number of loops, io_threads), for a component that
  // runs on one of the server's loops (e.g. a Redis client). Any thread;
  // valid between Start() and Join(); nullptr outside that or for a bad i.
  EventLoop* loop(size_t i) const;

 private:
  static void RaiseOpenFileLimitForConnections();
  void HandleNewConnection(EventLoop* accept_loop, Socket socket,
                           const InetAddress& peer);
  // Reads a trusted peer's PROXY header on a loop, then Admit()s.
  void ReadProxyHeader(EventLoop* loop, Socket socket, const InetAddress& peer);
  void OnProxyHeader(ProxyHeaderReader* reader, EventLoop* loop,
                     const InetAddress& peer,
                     absl::StatusOr<ProxyHeader> header, Socket socket);
  // TLS, the limits, then the Connection on `loop` (nullptr: the next one)
  // with `peer` as its peer address. `guard`: a ProxyHeaderGuard wraps the
  // handler (an untrusted peer while the PROXY protocol is on).
  void Admit(EventLoop* loop, Socket socket, const InetAddress& peer,
             bool guard);
  // ConnectionOwner
  void OnClosing(Connection& connection, const absl::Status& reason) override;
  void OnClosed(Connection& connection) override;
  bool ReclaimOutputBudget(Connection& requester, size_t n) override;
  void OnHeldInputChanged(Connection& connection, size_t before,
                          size_t after) override;
  // Closes the connection holding the most queued output, if it holds more
  // than `requester` (may be null) would after queuing `n`; true if so.
  bool MakeRoom(const Connection* requester, size_t n) const;
  // At max_connections: closes the connection idle longest if it has been
  // idle for evict_idle_after; true if so.
  bool EvictIdlest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs `reason` (rate-limited) and closes `connection` with it from its
  // loop's queue, never inline (callers hold locks or run in a handler).
  static void CloseLater(ConnectionPtr connection, absl::Status reason);

  const TcpServerOptions options_;
  const ConnectionHandlerFactory factory_;
  // One copy shared by every connection.
  const std::shared_ptr<const ConnectionOptions> connection_options_;
  const std::shared_ptr<OutputBudget> budget_;
  // proxy_protocol.trusted_sources parsed (an error: Listen returns it).
  const absl::StatusOr<std::vector<IpRange>> trusted_sources_;

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
  mutable std::atomic<uint64_t> closed_over_budget_{0};
  std::atomic<uint64_t> evicted_idle_{0};
  std::atomic<uint64_t> closed_over_input_bound_{0};
  std::atomic<size_t> held_input_bytes_{0};
  std::array<std::atomic<uint64_t>, kNumStatusCodes> closed_by_code_{};
  std::atomic<uint64_t> proxy_headers_{0};
  std::atomic<uint64_t> proxy_header_errors_{0};
  std::atomic<uint64_t> proxy_header_timeouts_{0};
  std::atomic<uint64_t> proxy_untrusted_refused_{0};
  // Connections being closed for the input bound, and what they hold.
  absl::flat_hash_map<uint64_t, size_t> input_evicting_
      ABSL_GUARDED_BY(reclaim_mu_);
  size_t input_reclaiming_ ABSL_GUARDED_BY(reclaim_mu_) = 0;
  // Evictions not yet closed (admitted connections beyond max_connections),
  // and when a search for an idle connection last found none.
  size_t evictions_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<uint64_t> evicted_ ABSL_GUARDED_BY(mu_);
  int64_t no_idle_found_ns_ ABSL_GUARDED_BY(mu_) = 0;

  // Reclaiming budget: one search at a time; connections being closed for
  // it (so they are not picked twice, and what they hold counts as room);
  // when a search last found nobody, and for how much.
  mutable absl::Mutex reclaim_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // id -> queued bytes when picked; their sum is what those closes free.
  mutable absl::flat_hash_map<uint64_t, size_t> evicting_
      ABSL_GUARDED_BY(reclaim_mu_);
  mutable size_t reclaiming_bytes_ ABSL_GUARDED_BY(reclaim_mu_) = 0;
  mutable int64_t fruitless_reclaim_ns_ ABSL_GUARDED_BY(reclaim_mu_) = 0;
  mutable size_t fruitless_wanted_ ABSL_GUARDED_BY(reclaim_mu_) = SIZE_MAX;

  // The loops' byte counts (EventLoop::bytes_read), kept when Join stops
  // the loops (after which they are gone).
  mutable absl::Mutex io_totals_mu_;
  bool loops_stopped_ ABSL_GUARDED_BY(io_totals_mu_) = false;
  uint64_t final_bytes_received_ ABSL_GUARDED_BY(io_totals_mu_) = 0;
  uint64_t final_bytes_sent_ ABSL_GUARDED_BY(io_totals_mu_) = 0;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Stop() finished posting its work to the loops; Join may stop them.
  bool stop_dispatched_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, size_t> per_ip_ ABSL_GUARDED_BY(mu_);
  // Trusted connections whose PROXY header is being read; each removes
  // itself when done (on its loop). Join waits for none.
  absl::flat_hash_map<ProxyHeaderReader*, std::shared_ptr<ProxyHeaderReader>>
      pending_headers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_NET_TCP_SERVER_H_
