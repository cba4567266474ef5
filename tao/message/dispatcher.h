// Dispatcher: turns a connection's bytes into handler calls. It splits the
// input into frames with the codec, looks each type up in the Registry and
// runs the handler inline on the I/O loop or on the WorkerPool.
//
// With a pool, every connection gets its own strand: its messages run one
// at a time and in order, while different connections run in parallel on
// whichever worker is free. When a connection has `max_queued_messages`
// waiting, reading from it pauses until half have run, so a fast sender
// cannot queue unbounded work.
//
// Bad input: a malformed frame (oversized length, garbage) closes that
// connection with the codec's error; an unknown type is reported and skipped
// (or closes, per UnknownTypePolicy); a payload that does not parse closes
// the connection. Every case is counted and reported to OnError; other
// connections are never affected.
//
// Thread safety: OnData runs on the connection's loop thread. stats() from
// any thread. Shutdown() from the owner's controlling thread.
#ifndef TAO_MESSAGE_DISPATCHER_H_
#define TAO_MESSAGE_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "codec/codec.h"
#include "tao/concurrent/worker_pool.h"
#include "tao/message/registry.h"
#include "tao/net/buffer.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/options.h"

namespace tao {

class Client;
class Server;

struct DispatchStats {
  uint64_t messages = 0;       // frames handed to handlers
  uint64_t heartbeats = 0;     // type-0 frames handled by the framework
  uint64_t unknown_types = 0;  // frames whose type has no handler
  uint64_t bad_frames = 0;     // framing errors (connection closed)
  uint64_t bad_payloads = 0;   // payloads that did not parse (closed)
};

// `codec`, or the process-wide TLV codec (Go tao's framing) when null.
std::shared_ptr<const Codec> CodecOrDefault(std::shared_ptr<const Codec> codec);

class Dispatcher {
 public:
  // `registry` and `codec` must outlive the dispatcher. `server`/`client`
  // (one of them) are passed to handlers through the Context.
  Dispatcher(const Registry* registry, const Codec* codec,
             const EndpointOptions& options, Server* server, Client* client,
             ErrorCallback on_error);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // The connection's DataCallback.
  void OnData(Connection& connection, Buffer& input);

  // Runs the handlers still queued, then stops the workers. Idempotent.
  void Shutdown();

  DispatchStats stats() const;
  // Worker threads (0: handlers run inline).
  int handler_threads() const { return pool_ ? pool_->threads() : 0; }

 private:
  struct ConnectionState;

  void HandleFrame(Connection& connection, const Frame& frame);
  void RunHandler(Connection& connection, int32_t type,
                  absl::string_view payload);
  void Enqueue(Connection& connection, int32_t type, absl::string_view payload);

  const Registry* const registry_;
  const Codec* const codec_;
  const UnknownTypePolicy unknown_type_policy_;
  const size_t max_queued_messages_;
  Server* const server_;
  Client* const client_;
  const ErrorCallback on_error_;
  std::unique_ptr<WorkerPool> pool_;  // null: inline

  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> unknown_types_{0};
  std::atomic<uint64_t> bad_frames_{0};
  std::atomic<uint64_t> bad_payloads_{0};
};

}  // namespace tao

#endif  // TAO_MESSAGE_DISPATCHER_H_
