// Options of the message layer: what a message Server or Client adds to the
// byte layer's TcpServerOptions / TcpClientOptions (tao/net/options.h).
//
//   tao::ServerOptions options;
//   options.io_threads = 2;            // byte layer
//   options.handler_threads = 4;       // message layer
//   options.heartbeat.timeout = absl::Seconds(15);
//
// Thread counts follow tao/base/thread_count.h: N > 0 threads, 0 none
// (handlers inline on the I/O loop), kOneThreadPerCore.
#ifndef TAO_MESSAGE_OPTIONS_H_
#define TAO_MESSAGE_OPTIONS_H_

#include <cstddef>
#include <memory>

#include "absl/time/time.h"
#include "tao/base/thread_count.h"
#include "tao/net/options.h"

namespace tao {

class Codec;

// A frame whose type has no registered handler (and no catch-all handler,
// Registry::RegisterCatchAll).
enum class UnknownTypePolicy {
  // Report it to OnError (NOT_FOUND), count it, skip its payload and go on:
  // Go tao's behaviour, so a newer peer can talk to an older server. A peer
  // can send these as fast as it can write, each one an OnError: one that
  // logs should log with TAO_LOG_RATE_LIMITED (tao/base/logging.h).
  kSkip,
  // Report it, then close the connection.
  kClose,
};

// Go-tao-compatible application heartbeats and idle detection. Everything is
// off by default (all zero).
struct HeartbeatOptions {
  // Send a heartbeat (type 0, int64 little-endian Unix-nanosecond timestamp,
  // exactly Go tao's) this often on every connection. Zero: never. Clients
  // usually send.
  absl::Duration interval = absl::ZeroDuration();
  // Close a connection after this long with nothing received, unless the
  // peer is still draining our output (acknowledging bytes): a slow reader
  // is not a dead one. Closed with DEADLINE_EXCEEDED, reported to OnError,
  // counted. Zero: never. Any received frame counts as traffic.
  absl::Duration timeout = absl::ZeroDuration();
  // OnIdle(kReaderIdle) after this long with nothing received, and
  // OnIdle(kWriterIdle) after this long with nothing written (once per idle
  // stretch; Netty's IdleStateHandler). Zero: off.
  absl::Duration reader_idle = absl::ZeroDuration();
  absl::Duration writer_idle = absl::ZeroDuration();
};

// What message servers and clients share.
struct MessageOptions {
  // Where handlers (and the connection's timers) run: 0 inline on the
  // connection's I/O loop (lowest latency; a slow handler delays that
  // loop's other connections); N > 0 on a pool of N workers, each
  // connection's messages still one at a time, in order. The default is
  // per endpoint kind (ServerOptions, ClientOptions).
  int handler_threads = 0;
  HeartbeatOptions heartbeat;
  // Framing. nullptr: TLV, Go tao's TypeLengthValueCodec.
  std::shared_ptr<const Codec> codec;
  UnknownTypePolicy unknown_type_policy = UnknownTypePolicy::kSkip;
  // A frame that has begun to arrive must be complete within this, or the
  // connection is closed with DEADLINE_EXCEEDED (DispatchStats::
  // frame_timeouts): a peer trickling bytes cannot hold a partial frame
  // (and its memory) forever. The clock restarts with every frame; time
  // spent paused by the handler backlog does not count. Zero: no deadline.
  absl::Duration frame_timeout = absl::Seconds(30);
  // With a worker pool, work waiting for handlers is bounded, checked before
  // each frame is decoded: when one connection has max_queued_messages or
  // max_queued_bytes (payload bytes) waiting, or the whole endpoint has
  // max_total_queued_bytes, decoding stops, the rest of the input stays
  // unread in the connection's buffer and reading pauses; it resumes when
  // that backlog has fallen to half. A fast sender cannot queue unbounded
  // work; a queue may exceed a byte bound by at most one frame.
  size_t max_queued_messages = 1024;
  size_t max_queued_bytes = size_t{16} << 20;
  size_t max_total_queued_bytes = size_t{256} << 20;
};

struct ServerOptions : TcpServerOptions, MessageOptions {
  // A server's handlers default to a worker pool of one thread per core
  // (Go tao's model): a slow handler then never stalls the I/O of the
  // other connections on its loop.
  ServerOptions() { handler_threads = kOneThreadPerCore; }
};

struct ClientOptions : TcpClientOptions, MessageOptions {
  // A client's handlers default to inline (0): a client has few
  // connections, and a thousand clients must not bring a thousand pools.
  ClientOptions() { handler_threads = 0; }
};

}  // namespace tao

#endif  // TAO_MESSAGE_OPTIONS_H_
