// Options of the byte layer: TCP servers, TCP clients and their
// connections. Plain structs: set the fields you care about; every default
// is usable as is. The message layer adds its own (tao/message/options.h).
#ifndef TAO_NET_OPTIONS_H_
#define TAO_NET_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tao/base/thread_count.h"

namespace tao {

class TransportFactory;

// What happens when a peer does not read and a connection's queued output
// would exceed ConnectionOptions::max_output_bytes (or the server-wide
// TcpServerOptions::max_total_output_bytes).
enum class OverflowPolicy {
  // Close the connection with RESOURCE_EXHAUSTED (reported to OnError).
  kDisconnect,
  // Refuse the send: Send() returns RESOURCE_EXHAUSTED and the frame is
  // dropped and counted; the connection stays up.
  kDropNewest,
  // Stop reading from the connection while its output is above the high
  // water mark, so a peer that does not read cannot make us produce more;
  // resume at the low water mark. Exceeding the hard cap still disconnects.
  kPauseReading,
};

struct ConnectionOptions {
  // --- Backpressure ---
  // Queued output above which HighWaterMarkCallback runs (and reading pauses
  // under kPauseReading). Default 4 MiB.
  size_t high_water_mark = size_t{4} << 20;
  // Queued output at or below which LowWaterMarkCallback runs after a high
  // water crossing, and reading resumes. Default 1 MiB.
  size_t low_water_mark = size_t{1} << 20;
  // Hard cap on one connection's queued output. Default 64 MiB.
  size_t max_output_bytes = size_t{64} << 20;
  OverflowPolicy overflow_policy = OverflowPolicy::kDisconnect;

  // --- Socket ---
  bool tcp_no_delay = true;
  bool keep_alive = true;

  // How long a transport handshake (TLS) may take before the connection is
  // closed with DEADLINE_EXCEEDED. Plain TCP has none.
  absl::Duration handshake_timeout = absl::Seconds(10);

  // --- Shutdown ---
  // How long Shutdown()/graceful close may wait for queued output to drain
  // and the peer to close before the connection is closed forcibly.
  absl::Duration linger = absl::Seconds(5);
};

// How a Client retries a failed or lost connection.
struct ReconnectPolicy {
  // Off: a failed connect or a lost connection is final.
  bool enabled = false;
  // Delay before the first retry; doubled (times `multiplier`) per attempt.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double multiplier = 2.0;
  // Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], so
  // many clients do not reconnect in lockstep.
  double jitter = 0.2;
  absl::Duration max_backoff = absl::Seconds(30);
  // Give up after this many consecutive failed attempts (0: never).
  int max_attempts = 0;
  // A connection that received data, or stayed up this long, was useful:
  // losing it retries from initial_backoff. One that closed sooner without
  // a byte from the peer counts as a failed attempt (reported, backed off,
  // counted against max_attempts), so a server that accepts and closes at
  // once is not hammered.
  absl::Duration healthy_after = absl::Seconds(1);
};

// What TCP servers and clients share.
struct EndpointOptions {
  ConnectionOptions connection;

  // TLS (or another transport) for every connection, e.g. a
  // tao::TlsContext. nullptr: plain TCP.
  std::shared_ptr<const TransportFactory> tls;
};

// PROXY protocol (v1 and v2, HAProxy's spec): connections from a load
// balancer start with a header naming the real client, which then becomes
// the connection's peer_address() (and what max_connections_per_ip counts).
struct ProxyProtocolOptions {
  // The peers whose connections must start with a PROXY header: IP
  // addresses or CIDR ranges ("127.0.0.1", "10.0.0.0/8", "2001:db8::/32").
  // Their header is read before anything else (before TLS, before the
  // connection limits); a malformed, oversize or missing one closes the
  // connection (TcpServerStats::proxy_header_errors, _timeouts). Anyone
  // else that starts with a PROXY header is refused
  // (proxy_untrusted_refused): a client cannot claim another address; other
  // clients are served as usual. Empty (the default): off, every byte is
  // the protocol's.
  std::vector<std::string> trusted_sources;
  // A trusted peer's whole header must arrive within this; else the
  // connection is closed with DEADLINE_EXCEEDED.
  absl::Duration header_timeout = absl::Seconds(3);
  // Connections waiting for their header at once, beyond which new ones
  // from trusted peers are closed at once (counted in proxy_header_errors).
  // 0: no bound.
  size_t max_pending_headers = 1024;
};

struct TcpServerOptions : EndpointOptions {
  // I/O loops (threads; tao/base/thread_count.h). A server multiplexes many
  // connections, so by default it uses every core.
  int io_threads = kOneThreadPerCore;
  // Accepting: false = one listener on the first loop handing connections
  // out round-robin; true = one SO_REUSEPORT listener per loop (the kernel
  // balances).
  bool reuse_port = false;
  // Connections beyond this are accepted and closed at once, counted, and
  // reported in TcpServerStats::refused_max_connections. 0: no limit.
  size_t max_connections = 10000;
  // When max_connections are open, a new connection takes the place of the
  // one idle longest (nothing read or written), if that one has been idle
  // at least this long: it is closed with UNAVAILABLE and counted in
  // TcpServerStats::evicted_idle. So idle connections cannot lock active
  // clients out. Zero: refuse the new connection instead.
  absl::Duration evict_idle_after = absl::Seconds(30);
  // Connections from one IP address beyond this are refused likewise, so
  // one address cannot take every slot (a load balancer or NAT in front
  // needs a higher value, or 0). 0: no limit.
  size_t max_connections_per_ip = 1024;
  // Budget for the queued output of all connections together (a
  // broadcast's shared bytes count once). When a send does not fit, the
  // connection holding the most queued output is closed instead of the
  // sender, if it holds more than the sender would (RESOURCE_EXHAUSTED,
  // TcpServerStats::closed_over_budget); otherwise, and always under
  // kDropNewest, the sender's OverflowPolicy applies. Default 1 GiB.
  size_t max_total_output_bytes = size_t{1} << 30;
  // Bound on the input all connections hold between reads (partial frames,
  // input kept while a handler paused reading). When exceeded, the
  // connection holding the most is closed with RESOURCE_EXHAUSTED
  // (TcpServerStats::closed_over_input_bound), so peers that start big
  // frames and never finish them cannot exhaust memory together.
  // 0: no bound. Default 256 MiB.
  size_t max_total_held_input_bytes = size_t{256} << 20;
  // Behind a load balancer: the client's address from a PROXY header.
  ProxyProtocolOptions proxy_protocol;
};

struct TcpClientOptions : EndpointOptions {
  // Upper bound on a connect attempt.
  absl::Duration connect_timeout = absl::Seconds(5);
  ReconnectPolicy reconnect;
};

}  // namespace tao

#endif  // TAO_NET_OPTIONS_H_
