// Dispatcher: turns a connection's bytes into handler calls. It splits the
// input into frames with the codec, looks each type up in the Registry and
// runs the handler inline on the I/O loop or on the WorkerPool.
//
// With a pool, every connection gets its own strand: its messages (and its
// timers, through Execute) run one at a time and in order, while different
// connections run in parallel on whichever worker is free. The work waiting
// is bounded per connection (messages, bytes) and per endpoint (bytes),
// checked before every frame (MessageOptions::max_queued_messages): over a
// bound, decoding stops and reading pauses until that backlog has halved.
//
// Bad input: a malformed frame (oversized length, garbage) closes that
// connection with the codec's error; an unknown type goes to the registry's
// catch-all handler, or is reported and skipped (or closes, per
// UnknownTypePolicy); a payload that does not parse closes the connection.
// A handler (or connection timer) that throws closes its connection with
// INTERNAL naming the exception. Every case is counted and reported to
// OnError; other connections are never affected.
//
// Thread safety: OnData and Execute run on the connection's loop thread.
// stats() from any thread. Start/Shutdown from the owner's controlling
// thread.
#ifndef TAO_MESSAGE_DISPATCHER_H_
#define TAO_MESSAGE_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "codec/codec.h"
#include "tao/concurrent/worker_pool.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/type_counters.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/histogram.h"
#include "tao/net/buffer.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"

namespace tao {

class Endpoint;

struct DispatchStats {
  uint64_t messages = 0;       // frames handed to handlers
  uint64_t heartbeats = 0;     // type-0 frames handled by the framework
  uint64_t unknown_types = 0;  // frames whose type has no handler
  uint64_t bad_frames = 0;     // framing errors (connection closed)
  uint64_t bad_payloads = 0;   // payloads that did not parse (closed)
  // Handlers or connection timers that threw (connection closed with
  // INTERNAL naming the exception; the process goes on).
  uint64_t handler_exceptions = 0;
  // Messages whose handler ran when their connection could no longer send
  // (closed by the peer, an error or the grace period of a Stop): any reply
  // to them was lost. Zero for peers that wait for their answers.
  uint64_t handled_after_close = 0;
  // With a pool: payload bytes waiting for handlers now, and the most
  // there ever were (bounded by max_total_queued_bytes plus one frame per
  // connection that was under its own bounds).
  uint64_t queued_bytes = 0;
  uint64_t peak_queued_bytes = 0;
  uint64_t queued_messages = 0;  // with a pool: waiting for handlers now
  // Times decoding stopped because a connection's or the endpoint's
  // backlog was full (reading paused).
  uint64_t queue_full_pauses = 0;
  // Connections closed because a frame stayed incomplete for
  // MessageOptions::frame_timeout.
  uint64_t frame_timeouts = 0;
  // Connections whose peer closed its side in the middle of a frame
  // (closed with DATA_LOSS once the replies to its whole frames went out).
  uint64_t truncated_frames = 0;
};

// `codec`, or the process-wide TLV codec (Go tao's framing) when null.
std::shared_ptr<const Codec> CodecOrDefault(std::shared_ptr<const Codec> codec);

class Dispatcher {
 public:
  struct ConnectionState;

  // With a pool: the frames one OnData decoded, run on the connection's
  // strand as one task (one post per read, and no allocation once a spent
  // batch is reused).
  struct Batch {
    struct Item {
      const Registry::DispatchFn* dispatch;
      int32_t type;
      size_t size;  // payload bytes, in `payloads` after the previous items'
    };
    // While queued: keeps the connection, and so `state` (which lives in
    // its handler), alive.
    ConnectionPtr connection;
    ConnectionState* state = nullptr;
    std::vector<Item> items;
    std::string payloads;
  };

  // One connection's dispatch state, kept in its MessageHandler. Loop
  // thread only (the strand itself is thread-safe) unless noted.
  struct ConnectionState {
    ConnectionState() = default;
    ConnectionState(const ConnectionState&) = delete;
    ConnectionState& operator=(const ConnectionState&) = delete;
    ~ConnectionState() { delete spare.load(); }

    std::shared_ptr<WorkerPool::Strand> strand;  // made on first use
    // The batch OnData is filling; always null outside OnData.
    std::unique_ptr<Batch> batch;
    // A batch a worker ran and emptied, for the next OnData to reuse (any
    // thread; whoever exchanges it out owns it).
    std::atomic<Batch*> spare{nullptr};
    // Posted to the strand and not yet run (decremented by the workers).
    std::atomic<size_t> queued_messages{0};
    std::atomic<size_t> queued_bytes{0};
    // Reading paused on this connection's own backlog; the worker that
    // brings it down to half resumes it.
    std::atomic<bool> waiting{false};
    // Loop thread: when the incomplete frame at the end of the input began
    // (0: none), and whether a deadline check is scheduled.
    int64_t partial_since_ns = 0;
    bool deadline_armed = false;
  };

  // `registry` (may be null), `codec` and `endpoint` must outlive the
  // dispatcher. `on_error` reports skipped unknown types.
  Dispatcher(const Registry* registry, const Codec* codec,
             const MessageOptions& options, const Endpoint* endpoint,
             ErrorCallback on_error);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts the workers (none when handlers run inline). INVALID_ARGUMENT
  // for a bad handler_threads.
  absl::Status Start();
  // Runs the handlers still queued, then stops the workers. Idempotent.
  void Shutdown();

  // A connection's input.
  void OnData(Connection& connection, Buffer& input, ConnectionState& state);
  // The peer's EOF: DATA_LOSS when `unconsumed` holds part of a frame.
  absl::Status OnPeerEof(Connection& connection, const Buffer& unconsumed,
                         ConnectionState& state);
  // Runs `work` where the connection's handlers run: on its strand with a
  // pool (after the handlers queued before it), else at once.
  void Execute(Connection& connection, ConnectionState& state,
               absl::AnyInvocable<void()> work);

  DispatchStats stats() const;
  // Messages handled per type (after Start: of the types registered then).
  const TypeCounters& handled_by_type() const { return *handled_; }
  // How long handlers took, in seconds (one call in 32 per thread timed).
  HistogramSnapshot handler_latency() const {
    return handler_latency_->Snapshot();
  }
  // Worker threads (0: handlers run inline).
  int handler_threads() const { return pool_ ? pool_->threads() : 0; }

 private:
  void HandleFrame(Connection& connection, const Frame& frame,
                   ConnectionState& state);
  void RunHandler(Connection& connection, const Registry::DispatchFn& dispatch,
                  int32_t type, absl::string_view payload);
  // Adds the frame to state.batch (counted as queued at once).
  void Enqueue(Connection& connection, ConnectionState& state,
               const Registry::DispatchFn& dispatch, int32_t type,
               absl::string_view payload);
  // Posts state.batch, if any, to the connection's strand.
  void PostBatch(Connection& connection, ConnectionState& state);
  // On the strand: runs the batch's handlers in order, then offers the
  // emptied batch back as its connection's spare.
  void RunBatch(std::unique_ptr<Batch> batch);
  WorkerPool::Strand& StrandOf(ConnectionState& state);
  // Before each frame: true when this connection's or the endpoint's
  // backlog is full, after pausing reading and arranging its resumption.
  bool PauseIfBacklogFull(Connection& connection, ConnectionState& state);
  bool OwnBacklogFull(const ConnectionState& state) const;
  bool TotalBacklogFull() const;
  // A queued handler ran: the backlog shrinks; resumes who waited for it.
  void OnHandlerDone(Connection& connection, ConnectionState& state,
                     size_t bytes);
  void ResumeTotalWaiters();
  // After decoding: starts or clears the deadline of the incomplete frame
  // left in `input` (`decoded`: frames completed in this call).
  void TrackPartialFrame(Connection& connection, ConnectionState& state,
                         const Buffer& input, bool decoded);
  void ArmFrameDeadline(Connection& connection, ConnectionState& state,
                        absl::Duration delay);
  // fn(), or INTERNAL naming what() and the exception when it throws
  // (*threw says which). what() runs only then: nothing is formatted per
  // message.
  // Inline, so the handler call is direct (no function reference hops);
  // the exception paths are out of line.
  template <typename Fn, typename What>
  static absl::Status Contain(Fn&& fn, What&& what, bool* threw) {
    *threw = true;
    try {
      absl::Status status = fn();
      *threw = false;
      return status;
    } catch (const std::exception& e) {
      return Threw(what(), e.what());
    } catch (...) {
      return Threw(what(), nullptr);
    }
  }
  // INTERNAL: `what` threw `exception` (nullptr: not a std::exception).
  static absl::Status Threw(const std::string& what, const char* exception);

  // A batch is posted once its payloads reach this.
  static constexpr size_t kPostBatchBytes = 64 << 10;
  // A spare batch keeps a payload buffer up to this size, so small
  // messages allocate nothing per read; a bigger one (a burst's) goes back,
  // or every connection would hold its largest batch while idle.
  static constexpr size_t kRetainedBatchBytes = 4 << 10;

  const Registry* const registry_;  // may be null
  const Codec* const codec_;
  const Endpoint* const endpoint_;
  const int handler_threads_;
  const UnknownTypePolicy unknown_type_policy_;
  const absl::Duration frame_timeout_;
  const size_t max_queued_messages_;
  const size_t max_queued_bytes_;
  const size_t max_total_queued_bytes_;
  const ErrorCallback on_error_;
  std::unique_ptr<WorkerPool> pool_;  // null: inline

  // DispatchStats. Frames handled (sharded: counted on every loop and
  // worker thread), by type:
  std::unique_ptr<TypeCounters> handled_;
  Counter heartbeats_;
  const std::unique_ptr<Histogram> handler_latency_;
  // With a pool: messages posted to strands, and run.
  Counter enqueued_;
  Counter dequeued_;
  std::atomic<uint64_t> unknown_types_{0};
  // Failures that closed their connection:
  std::atomic<uint64_t> bad_frames_{0};
  std::atomic<uint64_t> bad_payloads_{0};
  std::atomic<uint64_t> handler_exceptions_{0};
  std::atomic<uint64_t> handled_after_close_{0};
  std::atomic<uint64_t> queue_full_pauses_{0};
  std::atomic<uint64_t> frame_timeouts_{0};
  std::atomic<uint64_t> truncated_frames_{0};

  // The endpoint's backlog (payload bytes posted to strands, not yet run).
  std::atomic<size_t> total_queued_bytes_{0};
  std::atomic<size_t> peak_queued_bytes_{0};
  // Connections paused on the endpoint's backlog, resumed when it halves.
  absl::Mutex waiters_mu_;
  std::vector<std::weak_ptr<Connection>> total_waiters_
      ABSL_GUARDED_BY(waiters_mu_);
  std::atomic<bool> has_total_waiters_{false};
};

}  // namespace tao

#endif  // TAO_MESSAGE_DISPATCHER_H_
