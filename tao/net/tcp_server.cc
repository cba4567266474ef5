#include "tao/net/tcp_server.h"

#include "absl/strings/str_cat.h"
#include "tao/base/freed_memory.h"
#include "tao/base/logging.h"
#include "tao/base/open_file_limit.h"
#include "tao/base/status_macros.h"
#include "tao/base/thread_count.h"
#include "tao/net/acceptor.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/output_budget.h"
#include "tao/net/output_queue.h"
#include "tao/net/proxy_header_guard.h"
#include "tao/net/proxy_header_reader.h"
#include "tao/net/transport.h"

namespace tao {

TcpServer::TcpServer(TcpServerOptions options, ConnectionHandlerFactory factory)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      connection_options_(
          std::make_shared<const ConnectionOptions>(options_.connection)),
      budget_(std::make_shared<OutputBudget>(options_.max_total_output_bytes)),
      trusted_sources_(
          IpRange::ParseList(options_.proxy_protocol.trusted_sources)) {}

TcpServer::~TcpServer() {
  if (started_ && !joined_) {
    Stop(absl::ZeroDuration());
    Join();
  }
}

absl::Status TcpServer::Listen(absl::string_view address) {
  if (!listeners_.empty() || started_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Listen(\"", address, "\"): the server already listens on ",
        listen_address_.ToString()));
  }
  if (!trusted_sources_.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proxy_protocol.trusted_sources", trusted_sources_.status().message()));
  }
  TAO_ASSIGN_OR_RETURN(InetAddress parsed, InetAddress::Parse(address));
  const bool reuse_port = options_.reuse_port && parsed.is_ip();
  TAO_ASSIGN_OR_RETURN(Socket first, Acceptor::Listen(parsed, reuse_port));
  TAO_ASSIGN_OR_RETURN(listen_address_, first.LocalAddress());
  listeners_.push_back(std::move(first));
  if (reuse_port) {
    TAO_ASSIGN_OR_RETURN(
        const int loops,
        ResolvePositiveThreadCount(options_.io_threads, "io_threads"));
    // One listener per loop, all on the port the first one got.
    for (int i = 1; i < loops; ++i) {
      absl::StatusOr<Socket> more = Acceptor::Listen(listen_address_, true);
      if (!more.ok()) {
        listeners_.clear();
        return more.status();
      }
      listeners_.push_back(*std::move(more));
    }
  }
  return absl::OkStatus();
}

void TcpServer::RaiseOpenFileLimitForConnections() {
  const absl::StatusOr<OpenFileLimit> before = GetOpenFileLimit();
  const absl::StatusOr<OpenFileLimit> after = RaiseOpenFileLimit();
  if (!before.ok() || !after.ok()) {
    TAO_LOG(WARNING) << "cannot raise the open-file limit: "
                     << (before.ok() ? after.status() : before.status());
    return;
  }
  // Each connection is a file: the soft limit caps them per process.
  if (after->soft != before->soft) {
    TAO_LOG(INFO) << "raised the open-file limit (RLIMIT_NOFILE) from "
                  << before->soft << " to " << after->soft
                  << ", the hard limit: at most that many connections";
  }
}

absl::Status TcpServer::Start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  if (listeners_.empty()) {
    return absl::FailedPreconditionError(
        "Start() before a successful Listen()");
  }
  TAO_ASSIGN_OR_RETURN(const int loops, ResolvePositiveThreadCount(
                                            options_.io_threads, "io_threads"));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::FailedPreconditionError("server was stopped");
  }
  loops_ = std::make_unique<EventLoopThreadPool>(loops);
  loops_->Start();
  for (size_t i = 0; i < listeners_.size(); ++i) {
    EventLoop* loop = loops_->loop(i % loops_->size());
    auto acceptor = std::make_unique<Acceptor>(loop, std::move(listeners_[i]));
    Acceptor* raw = acceptor.get();
    acceptors_.push_back(std::move(acceptor));
    loop->RunInLoop([this, raw, loop] {
      raw->Start([this, loop](Socket socket, const InetAddress& peer) {
        HandleNewConnection(loop, std::move(socket), peer);
      });
    });
  }
  listeners_.clear();
  {
    // From here on Stop() may use loops_ and acceptors_. A Stop() that came
    // earlier returned without them; Join() still stops the acceptors.
    absl::MutexLock lock(&mu_);
    started_ = true;
  }
  TAO_LOG(INFO) << "listening on " << listen_address_.ToString() << " with "
                << loops_->size() << " I/O loop(s)";
  RaiseOpenFileLimitForConnections();
  // After a burst, the buffers connections gave back go back to the kernel
  // (tao/base/freed_memory.h): at most one trim a second, and only when
  // enough was freed since the last.
  loops_->loop(0)->RunEvery(absl::Seconds(1),
                            [] { (void)ReturnFreedMemory(size_t{8} << 20); });
  return absl::OkStatus();
}

absl::Status TcpServer::Run() {
  TAO_RETURN_IF_ERROR(Start());
  Join();
  return absl::OkStatus();
}

void TcpServer::HandleNewConnection(EventLoop* accept_loop, Socket socket,
                                    const InetAddress& peer) {
  const bool proxy_on = !trusted_sources_->empty();
  if (proxy_on && IpRange::AnyContains(*trusted_sources_, peer)) {
    ReadProxyHeader(options_.reuse_port ? accept_loop : loops_->GetNextLoop(),
                    std::move(socket), peer);
    return;
  }
  Admit(options_.reuse_port ? accept_loop : nullptr, std::move(socket), peer,
        /*guard=*/proxy_on);
}

void TcpServer::ReadProxyHeader(EventLoop* loop, Socket socket,
                                const InetAddress& peer) {
  std::shared_ptr<ProxyHeaderReader> reader;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // closes the socket
    const size_t max_pending = options_.proxy_protocol.max_pending_headers;
    if (max_pending > 0 && pending_headers_.size() >= max_pending) {
      const uint64_t errors =
          proxy_header_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
      TAO_LOG_RATE_LIMITED(WARNING)
          << "connection from " << peer << ": " << pending_headers_.size()
          << " connections are waiting for their PROXY header "
             "(proxy_protocol.max_pending_headers): closed ("
          << errors << " PROXY header errors so far)";
      return;
    }
    reader = std::make_shared<ProxyHeaderReader>(
        loop, std::move(socket), options_.proxy_protocol.header_timeout,
        [this, loop, peer](ProxyHeaderReader* done,
                           absl::StatusOr<ProxyHeader> header, Socket s) {
          OnProxyHeader(done, loop, peer, std::move(header), std::move(s));
        });
    pending_headers_.emplace(reader.get(), reader);
  }
  loop->RunInLoop([reader] { reader->Start(); });
}

void TcpServer::OnProxyHeader(ProxyHeaderReader* reader, EventLoop* loop,
                              const InetAddress& peer,
                              absl::StatusOr<ProxyHeader> header,
                              Socket socket) {
  if (header.ok()) {
    proxy_headers_.fetch_add(1, std::memory_order_relaxed);
    // LOCAL / UNKNOWN: the balancer's own connection (a health check).
    Admit(loop, std::move(socket),
          header->has_addresses ? header->source : peer, /*guard=*/false);
  } else if (!absl::IsCancelled(header.status())) {  // Stop: not counted
    std::atomic<uint64_t>& counter = absl::IsDeadlineExceeded(header.status())
                                         ? proxy_header_timeouts_
                                         : proxy_header_errors_;
    const uint64_t so_far = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    TAO_LOG_RATE_LIMITED(WARNING)
        << "connection from " << peer << " closed: " << header.status() << " ("
        << so_far << " so far)";
  }
  socket.Close();
  // Erased after Admit: Join never sees a moment with neither this reader
  // nor its connection. The reader's caller holds a reference to it until
  // this returns.
  absl::MutexLock lock(&mu_);
  pending_headers_.erase(reader);
}

void TcpServer::Admit(EventLoop* loop, Socket socket, const InetAddress& peer,
                      bool guard) {
  const bool is_ip = peer.is_ip();
  if (is_ip) {
    if (options_.connection.tcp_no_delay) (void)socket.SetTcpNoDelay(true);
    if (options_.connection.keep_alive) (void)socket.SetKeepAlive(true);
  }
  absl::StatusOr<InetAddress> local = socket.LocalAddress();
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      MakeTransport(options_.tls.get(), std::move(socket),
                    /*server_name=*/"");
  if (!transport.ok()) {
    // e.g. a TLS handshake cap: counted; logged sparingly (a flood of
    // these is exactly when logging each would hurt).
    const uint64_t refused =
        refused_transport_.fetch_add(1, std::memory_order_relaxed) + 1;
    TAO_LOG_RATE_LIMITED(WARNING)
        << "connection from " << peer << ": " << transport.status() << " ("
        << refused << " refused so far)";
    return;
  }
  const std::string ip = is_ip ? peer.host() : std::string();
  // Made before taking mu_: the user's factory may call back into us.
  std::unique_ptr<ConnectionHandler> handler = factory_();
  if (guard) {
    handler = std::make_unique<ProxyHeaderGuard>(std::move(handler),
                                                 &proxy_untrusted_refused_);
  }
  ConnectionPtr connection;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // the transport closes the socket
    if (options_.max_connections > 0 &&
        open_count_.load(std::memory_order_relaxed) >=
            options_.max_connections + evictions_in_flight_ &&
        !EvictIdlest()) {
      refused_max_connections_.fetch_add(1, std::memory_order_relaxed);
      TAO_LOG_RATE_LIMITED(WARNING)
          << "refused " << peer << ": " << options_.max_connections
          << " connections open (max_connections)";
      return;
    }
    if (options_.max_connections_per_ip > 0 && is_ip) {
      size_t& count = per_ip_[ip];
      if (count >= options_.max_connections_per_ip) {
        refused_per_ip_.fetch_add(1, std::memory_order_relaxed);
        TAO_LOG_RATE_LIMITED(WARNING)
            << "refused " << peer << ": " << count << " connections open from "
            << ip << " (max_connections_per_ip)";
        return;
      }
      ++count;
    }
    open_count_.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    if (loop == nullptr) loop = loops_->GetNextLoop();
    const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
    connection = std::make_shared<Connection>(
        loop, id, *std::move(transport), local.ok() ? *local : listen_address_,
        peer, connection_options_, std::move(handler), budget_,
        static_cast<ConnectionOwner*>(this));
    connections_.Insert(id, connection);
    // Queued (never run inline: Establish may close, which takes mu_) under
    // mu_, so a Stop() that sees this connection queues its Shutdown after
    // the Establish (same loop, FIFO).
    connection->loop()->QueueInLoop([connection] { connection->Establish(); });
  }
}

void TcpServer::OnClosing(Connection& /*connection*/,
                          const absl::Status& reason) {
  if (!reason.ok() && !absl::IsCancelled(reason)) {  // refusals: no error
    closed_with_error_.fetch_add(1, std::memory_order_relaxed);
  }
  const size_t code = static_cast<size_t>(reason.code());
  closed_by_code_[code < kNumStatusCodes
                      ? code
                      : static_cast<size_t>(absl::StatusCode::kUnknown)]
      .fetch_add(1, std::memory_order_relaxed);
}

void TcpServer::OnClosed(Connection& connection) {
  connections_.Erase(connection.id());
  {
    absl::MutexLock lock(&reclaim_mu_);
    auto it = evicting_.find(connection.id());
    if (it != evicting_.end()) {
      reclaiming_bytes_ -= it->second;
      evicting_.erase(it);
    }
    auto in = input_evicting_.find(connection.id());
    if (in != input_evicting_.end()) {
      input_reclaiming_ -= in->second;
      input_evicting_.erase(in);
    }
  }
  absl::MutexLock lock(&mu_);
  if (evicted_.erase(connection.id()) > 0) --evictions_in_flight_;
  if (options_.max_connections_per_ip > 0 &&
      connection.peer_address().is_ip()) {
    auto it = per_ip_.find(connection.peer_address().host());
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  }
  // Decremented under mu_ so that Join's Await sees it.
  open_count_.fetch_sub(1, std::memory_order_relaxed);
}

void TcpServer::Stop(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (!started_) {
      stop_dispatched_ = true;
      return;
    }
  }
  for (size_t i = 0; i < acceptors_.size(); ++i) {
    Acceptor* acceptor = acceptors_[i].get();
    loops_->loop(i % loops_->size())->RunInLoop([acceptor] {
      acceptor->Stop();
    });
  }
  // Admission happens under mu_, so every admitted connection is here.
  for (const ConnectionPtr& connection : connections_.Values()) {
    connection->Shutdown();
  }
  // No reader starts once stopping_ is set; each one pending is cancelled on
  // its loop (and removes itself).
  std::vector<std::shared_ptr<ProxyHeaderReader>> readers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [raw, reader] : pending_headers_)
      readers.push_back(reader);
  }
  for (std::shared_ptr<ProxyHeaderReader>& reader : readers) {
    EventLoop* loop = reader->loop();
    loop->RunInLoop([reader = std::move(reader)] {
      reader->Cancel(absl::CancelledError("the server is stopping"));
    });
  }
  loops_->loop(0)->RunAfter(grace, [this] {
    for (const ConnectionPtr& connection : connections_.Values()) {
      if (connection->state() != Connection::State::kClosed) {
        connection->CloseWithError(absl::DeadlineExceededError(
            "server shutdown grace period expired"));
      }
    }
  });
  // Join may tear the loops down only after this point.
  absl::MutexLock lock(&mu_);
  stop_dispatched_ = true;
}

void TcpServer::Join() {
  Join([] {});
}

void TcpServer::Join(absl::FunctionRef<void()> before_loops_stop) {
  if (!started_ || joined_) return;
  for (EventLoop* loop : loops_->loops()) {
    TAO_CHECK(!loop->IsInLoopThread())
        << "TcpServer::Join from one of the server's own I/O loops";
  }
  {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_dispatched_ && pending_headers_.empty() &&
             open_count_.load(std::memory_order_relaxed) == 0;
    };
    mu_.Await(absl::Condition(&drained));
  }
  before_loops_stop();
  // Idempotent; runs before the loops exit (queued before their Quit).
  for (size_t i = 0; i < acceptors_.size(); ++i) {
    Acceptor* acceptor = acceptors_[i].get();
    loops_->loop(i % loops_->size())->RunInLoop([acceptor] {
      acceptor->Stop();
    });
  }
  {
    // Every connection has closed: the loops' byte counts are final.
    absl::MutexLock lock(&io_totals_mu_);
    for (const EventLoop* loop : loops_->loops()) {
      final_bytes_received_ += loop->bytes_read();
      final_bytes_sent_ += loop->bytes_written();
    }
    loops_stopped_ = true;
  }
  loops_->Stop();
  joined_ = true;
}

ConnectionPtr TcpServer::Find(uint64_t id) const {
  return connections_.Find(id).value_or(nullptr);
}

void TcpServer::ForEach(
    const std::function<void(const ConnectionPtr&)>& fn) const {
  for (const ConnectionPtr& connection : connections_.Values()) {
    fn(connection);
  }
}

void TcpServer::CloseLater(ConnectionPtr connection, absl::Status reason) {
  TAO_LOG_RATE_LIMITED(WARNING) << reason.message();
  EventLoop* loop = connection->loop();
  loop->QueueInLoop(
      [connection = std::move(connection), reason = std::move(reason)] {
        connection->CloseWithError(reason);
      });
}

bool TcpServer::EvictIdlest() {
  if (options_.evict_idle_after <= absl::ZeroDuration()) return false;
  // A search is O(connections): after one found nobody idle enough, refuse
  // for a while without looking again.
  const int64_t now = ToNanos(std::chrono::steady_clock::now());
  if (now - no_idle_found_ns_ <
      absl::ToInt64Nanoseconds(absl::Milliseconds(100))) {
    return false;
  }
  ConnectionPtr idlest;
  MonoTime idlest_active = MonoTime::max();
  for (const ConnectionPtr& connection : connections_.Values()) {
    if (!connection->connected() || evicted_.contains(connection->id())) {
      continue;
    }
    const MonoTime active =
        std::max(connection->last_read_time(), connection->last_write_time());
    if (active < idlest_active) {
      idlest_active = active;
      idlest = connection;
    }
  }
  const absl::Duration idle =
      idlest == nullptr ? absl::ZeroDuration()
                        : ToDuration(idlest->loop()->Now() - idlest_active);
  if (idlest == nullptr || idle < options_.evict_idle_after) {
    no_idle_found_ns_ = now;
    return false;
  }
  evicted_.insert(idlest->id());
  ++evictions_in_flight_;
  evicted_idle_.fetch_add(1, std::memory_order_relaxed);
  absl::Status reason = absl::UnavailableError(absl::StrCat(
      "idle for ", absl::FormatDuration(idle), " while ",
      options_.max_connections,
      " connections are open (max_connections): closed to admit a new one"));
  // Never inline: closing takes mu_, which is held here.
  CloseLater(std::move(idlest), std::move(reason));
  return true;
}

void TcpServer::OnHeldInputChanged(Connection& /*connection*/, size_t before,
                                   size_t after) {
  const size_t total =
      held_input_bytes_.fetch_add(after - before, std::memory_order_relaxed) +
      (after - before);  // modular: a decrease wraps back
  const size_t bound = options_.max_total_held_input_bytes;
  if (after <= before || bound == 0 || total <= bound) return;
  absl::MutexLock lock(&reclaim_mu_);
  // Connections already being closed for it free this much.
  if (total <= bound + input_reclaiming_) return;
  ConnectionPtr victim;
  size_t most = 0;
  for (const ConnectionPtr& candidate : connections_.Values()) {
    const size_t held = candidate->held_input_bytes();
    if (held > most && !input_evicting_.contains(candidate->id())) {
      most = held;
      victim = candidate;
    }
  }
  if (victim == nullptr) return;
  input_evicting_.emplace(victim->id(), most);
  input_reclaiming_ += most;
  closed_over_input_bound_.fetch_add(1, std::memory_order_relaxed);
  absl::Status reason = absl::ResourceExhaustedError(absl::StrCat(
      "connection ", victim->id(), " (", victim->peer_address().ToString(),
      ") holds the most unprocessed input (", most,
      " bytes, e.g. an incomplete frame) while all connections hold ", total,
      " (max_total_held_input_bytes ", bound, "); closing it"));
  // Never inline: this runs inside a connection's read.
  CloseLater(std::move(victim), std::move(reason));
}

bool TcpServer::ReclaimOutputBudget(Connection& requester, size_t n) {
  return MakeRoom(&requester, n);
}

bool TcpServer::MakeRoom(const Connection* requester, size_t n) const {
  absl::MutexLock lock(&reclaim_mu_);
  // Connections already being closed for the budget will free this much.
  if (budget_->used() + n <= budget_->limit() + reclaiming_bytes_) return true;
  // The connection that holds the most pays, if it holds more than the
  // requester would after this send. The requester's queued bytes already
  // count these `n` (Connection::Reserve counts them before asking).
  const size_t wanted =
      requester != nullptr ? requester->queued_output_bytes() : n;
  // Searching is O(connections): after finding nobody holding more than
  // `wanted`, a requester wanting as much is refused for a while without
  // looking again (a small one still looks).
  const int64_t now = ToNanos(std::chrono::steady_clock::now());
  if (wanted >= fruitless_wanted_ &&
      now - fruitless_reclaim_ns_ <
          absl::ToInt64Nanoseconds(absl::Milliseconds(10))) {
    return false;
  }
  ConnectionPtr victim;
  size_t most = wanted;
  for (const ConnectionPtr& connection : connections_.Values()) {
    if (connection.get() == requester || evicting_.contains(connection->id())) {
      continue;
    }
    const size_t queued = connection->queued_output_bytes();
    if (queued > most) {
      most = queued;
      victim = connection;
    }
  }
  if (victim == nullptr) {
    fruitless_reclaim_ns_ = now;
    fruitless_wanted_ = wanted;
    return false;
  }
  fruitless_wanted_ = SIZE_MAX;
  evicting_.emplace(victim->id(), most);
  reclaiming_bytes_ += most;
  closed_over_budget_.fetch_add(1, std::memory_order_relaxed);
  absl::Status reason = absl::ResourceExhaustedError(absl::StrCat(
      "connection ", victim->id(), " (", victim->peer_address().ToString(),
      ") holds the most queued output (", most,
      " bytes) while the server-wide output budget of ", budget_->limit(),
      " bytes is exhausted; closing it (peer not reading?)"));
  // Never inline: the requester may be sending from the victim's loop,
  // inside a handler.
  CloseLater(std::move(victim), std::move(reason));
  return true;
}

size_t TcpServer::Broadcast(const absl::Cord& bytes) const {
  return Multicast(connections_.Values(), bytes);
}

size_t TcpServer::Multicast(const std::vector<ConnectionPtr>& connections,
                            const absl::Cord& bytes) const {
  if (connections.empty()) return 0;
  size_t accepted = 0;
  // Small frames are copied by each connection (OutputQueue), so they are
  // charged per connection.
  if (bytes.size() <= OutputQueue::kShareThreshold) {
    for (const ConnectionPtr& connection : connections) {
      if (connection->Send(bytes).ok()) ++accepted;
    }
    return accepted;
  }
  std::optional<SharedOutput> shared = budget_->Share(bytes);
  if (!shared.has_value()) {
    // Make room as one connection's send would.
    if (!MakeRoom(nullptr, bytes.size())) return 0;
    shared = budget_->Share(bytes, /*force=*/true);
  }
  for (const ConnectionPtr& connection : connections) {
    if (connection->Send(*shared).ok()) ++accepted;
  }
  return accepted;
}

absl::Status TcpServer::Unicast(uint64_t id, const absl::Cord& bytes) {
  ConnectionPtr connection = Find(id);
  if (connection == nullptr) {
    return absl::NotFoundError(absl::StrCat("no connection with id ", id));
  }
  return connection->Send(bytes);
}

absl::StatusOr<TimerId> TcpServer::Sched(absl::Duration interval,
                                         absl::AnyInvocable<void()> fn) {
  if (!started_ || joined_) {
    return absl::FailedPreconditionError("Sched needs a running server");
  }
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Sched needs a positive interval");
  }
  return loops_->loop(0)->RunEvery(interval, std::move(fn));
}

void TcpServer::CancelSched(TimerId id) {
  if (started_ && !joined_) loops_->loop(0)->Cancel(id);
}

EventLoop* TcpServer::loop(size_t i) const {
  if (!started_ || joined_ || i >= loops_->size()) return nullptr;
  return loops_->loop(i);
}

TcpServerStats TcpServer::stats() const {
  TcpServerStats stats;
  stats.accepted = accepted_.load(std::memory_order_relaxed);
  stats.refused_max_connections =
      refused_max_connections_.load(std::memory_order_relaxed);
  stats.refused_per_ip = refused_per_ip_.load(std::memory_order_relaxed);
  stats.refused_transport = refused_transport_.load(std::memory_order_relaxed);
  for (const auto& acceptor : acceptors_) {
    stats.dropped_fd_limit += acceptor->dropped_for_fd_limit();
    stats.accept_errors += acceptor->accept_errors();
  }
  stats.closed_with_error = closed_with_error_.load(std::memory_order_relaxed);
  stats.closed_over_budget =
      closed_over_budget_.load(std::memory_order_relaxed);
  stats.evicted_idle = evicted_idle_.load(std::memory_order_relaxed);
  stats.closed_over_input_bound =
      closed_over_input_bound_.load(std::memory_order_relaxed);
  stats.held_input_bytes = held_input_bytes_.load(std::memory_order_relaxed);
  stats.connections = connections_.size();
  stats.proxy_headers = proxy_headers_.load(std::memory_order_relaxed);
  stats.proxy_header_errors =
      proxy_header_errors_.load(std::memory_order_relaxed);
  stats.proxy_header_timeouts =
      proxy_header_timeouts_.load(std::memory_order_relaxed);
  stats.proxy_untrusted_refused =
      proxy_untrusted_refused_.load(std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    stats.proxy_headers_pending = pending_headers_.size();
  }
  stats.queued_output_bytes = budget_->used();
  {
    absl::MutexLock lock(&io_totals_mu_);
    if (loops_stopped_) {
      stats.bytes_received = final_bytes_received_;
      stats.bytes_sent = final_bytes_sent_;
    } else if (started_.load(std::memory_order_acquire)) {
      for (const EventLoop* loop : loops_->loops()) {
        stats.bytes_received += loop->bytes_read();
        stats.bytes_sent += loop->bytes_written();
      }
    }
  }
  for (size_t code = 0; code < kNumStatusCodes; ++code) {
    stats.closed_by_code[code] =
        closed_by_code_[code].load(std::memory_order_relaxed);
  }
  return stats;
}

}  // namespace tao
