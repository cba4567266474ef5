// Connection: one established byte stream (TCP, Unix-domain or TLS), owned
// by exactly one EventLoop for its whole life. It moves bytes only: what the
// bytes mean is its ConnectionHandler's business (connection_handler.h).
//
//   void OnData(tao::Connection& c, tao::Buffer& in) override {
//     (void)c.Send(in.view());    // echo
//     in.RetrieveAll();
//   }
//
// State machine (state() may be read from any thread):
//
//   kConnecting --Establish--> kConnected --Shutdown / peer EOF with output
//        |                        |          queued--> kDisconnecting
//        |                        |                         |
//        +------------------------+--- Close / error -------+--> kClosed
//
// Thread safety:
// - Send, Shutdown, Close, CloseWithError, PauseReading, ResumeReading,
//   set_name/name, the timers and every accessor are safe from any thread.
//   The work itself always happens on the owning loop's thread.
// - The handler's callbacks run on the loop thread.
// - Establish and the Handle* methods are loop-thread only (used by Server
//   and Client).
//
// Sending: on the loop thread, Send appends to the output queue and the
// queue is written once at the end of the current event (one gathered
// write for all frames a read produced). From other threads, bytes go to a
// pending queue that the loop drains with one wake-up per batch.
//
// Backpressure: queued output is counted per connection and against the
// owner's OutputBudget; crossing ConnectionOptions::high_water_mark runs the
// high water callback, and OverflowPolicy decides what a send beyond
// max_output_bytes does. Memory never grows without bound.
//
// Lifetime: held by std::shared_ptr (ConnectionPtr). OnClosed runs exactly
// once, on the loop thread, after which every Send fails with
// FAILED_PRECONDITION. Timers and posted work hold weak references. The
// handler lives as long as the connection.
#ifndef TAO_NET_CONNECTION_H_
#define TAO_NET_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/base/clock.h"
#include "tao/net/buffer.h"
#include "tao/net/callbacks.h"
#include "tao/net/channel.h"
#include "tao/net/compact_address.h"
#include "tao/net/connection_handler.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/output_budget.h"
#include "tao/net/output_queue.h"
#include "tao/net/transport.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class EventLoop;

// The endpoint that made a connection (TcpServer, TcpClient): what it learns
// about the connection's life, on the loop thread. Must outlive the
// connection's last event.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The handler accepted the connection (OnConnected returned true).
  virtual void OnEstablished(Connection& /*connection*/) {}
  // `requester` could not queue `n` bytes within the shared OutputBudget
  // (they are already counted in its queued_output_bytes()).
  // The owner may make room by closing the connections that hold the most
  // (never an innocent one that asked last); true when it did, and the
  // bytes are charged anyway (the budget is exceeded only until those
  // connections have closed). Any thread; must not close `requester`
  // inline.
  virtual bool ReclaimOutputBudget(Connection& /*requester*/, size_t /*n*/) {
    return false;
  }
  // The input the connection holds between reads (what its handler left
  // unconsumed: a partial frame, or input kept while it paused reading)
  // went from `before` to `after` bytes. Loop thread.
  virtual void OnHeldInputChanged(Connection& /*connection*/, size_t /*before*/,
                                  size_t /*after*/) {}
  // The connection closed; runs before the handler's OnClosed, so what the
  // handler reads from its owner there (stats) is current.
  virtual void OnClosing(Connection& /*connection*/,
                         const absl::Status& /*reason*/) {}
  // After the handler's OnClosed: the connection's last event.
  virtual void OnClosed(Connection& connection) = 0;
};

class Connection final : public std::enable_shared_from_this<Connection>,
                         private Channel::Handler {
 public:
  enum class State { kConnecting, kConnected, kDisconnecting, kClosed };

  // `handler` receives the connection's events; `budget` and `owner` may be
  // null.
  Connection(EventLoop* loop, uint64_t id, std::unique_ptr<Transport> transport,
             InetAddress local_address, InetAddress peer_address,
             std::shared_ptr<const ConnectionOptions> options,
             std::unique_ptr<ConnectionHandler> handler,
             std::shared_ptr<OutputBudget> budget, ConnectionOwner* owner);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- Identity ---
  uint64_t id() const { return id_; }
  std::string name() const;
  void set_name(std::string name);
  InetAddress local_address() const { return local_address_.Get(); }
  InetAddress peer_address() const { return peer_address_.Get(); }
  EventLoop* loop() const { return loop_; }
  State state() const { return state_.load(std::memory_order_acquire); }
  bool connected() const { return state() == State::kConnected; }
  // Why the connection closed: OK for an orderly close by either side.
  // Meaningful once state() is kClosed.
  absl::Status close_reason() const;

  // --- Sending (any thread) ---
  // Queues bytes for sending. FAILED_PRECONDITION once shutting down or
  // closed; RESOURCE_EXHAUSTED when the output cap or the server-wide budget
  // would be exceeded (see OverflowPolicy).
  absl::Status Send(absl::string_view bytes);
  // The same for shared bytes: a Cord is reference-counted, so a broadcast
  // encodes once and every connection queues the same memory.
  absl::Status Send(const absl::Cord& bytes);
  // Bytes shared with other connections (a broadcast): counted against this
  // connection's own cap, but not charged to the budget again when it is
  // the one that made them (OutputBudget::Share).
  absl::Status Send(const SharedOutput& bytes);
  // `header` then `payload`, queued together (one frame: nothing another
  // thread sends can come between them), without first copying them into
  // one string.
  absl::Status Send(absl::string_view header, absl::string_view payload);

  // --- Closing (any thread; idempotent) ---
  // Graceful half-close: stop reading, let the handler finish what it was
  // given (ConnectionHandler::Execute: replies from a worker pool still go
  // out), flush queued output, then FIN; keep reading until the peer closes
  // too. The whole is bounded by ConnectionOptions::linger.
  void Shutdown();
  // Closes now; queued output is discarded. close_reason() is OK.
  void Close();
  // Reports `reason` to the handler's OnError, then closes now.
  void CloseWithError(absl::Status reason);

  // --- Timers bound to this connection (any thread) ---
  // Callbacks run through the handler's Execute (by default on the loop
  // thread; on the connection's strand under the message layer's worker
  // pool), with the connection, and never after it closed: closing cancels
  // every pending timer of the connection. Return an invalid TimerId when
  // the connection is already closed.
  using TimerCallback = absl::AnyInvocable<void(Connection&)>;
  TimerId RunAt(MonoTime deadline, TimerCallback fn);
  TimerId RunAfter(absl::Duration delay, TimerCallback fn);
  TimerId RunEvery(absl::Duration interval, TimerCallback fn);
  // No-op for fired, cancelled or unknown ids.
  void CancelTimer(TimerId id);

  // --- Flow control (any thread) ---
  // Stops / resumes delivering input (e.g. while a worker queue is full).
  // Input the handler left in the buffer while paused is delivered again
  // after ResumeReading (before anything new), so a handler may stop
  // consuming mid-buffer; a peer EOF that came with it is reported after.
  // Resuming also delivers input the transport already holds (TLS records
  // that arrived with the handshake), which the socket would not announce.
  void PauseReading();
  void ResumeReading();

  // --- Statistics (any thread) ---
  MonoTime last_read_time() const;
  MonoTime last_write_time() const;
  uint64_t bytes_read() const { return bytes_read_.load(kRelaxed); }
  uint64_t bytes_written() const { return bytes_written_.load(kRelaxed); }
  // Output accepted by Send and not yet written to the socket.
  size_t queued_output_bytes() const { return queued_bytes_.load(kRelaxed); }
  // Sends refused under OverflowPolicy::kDropNewest.
  uint64_t dropped_sends() const { return dropped_sends_.load(kRelaxed); }
  // Input received and left unconsumed by the handler (a partial frame).
  size_t held_input_bytes() const { return held_input_.load(kRelaxed); }

  // --- Owner interface (loop thread) ---
  // Starts the connection: runs the transport's handshake (if any), then
  // OnConnect, then begins reading.
  void Establish();
  // The byte stream (TCP or TLS); loop thread only.
  Transport& transport() const { return *transport_; }
  // The handler made for this connection (any thread; the object's own
  // rules say what may be called where). Lives as long as the connection.
  ConnectionHandler& handler() const { return *handler_; }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;

  // `charge_budget`: false for bytes already charged (SharedOutput).
  template <typename Bytes>
  absl::Status SendImpl(const Bytes& bytes, bool charge_budget);
  TimerId AddTimer(MonoTime deadline, absl::Duration interval,
                   TimerCallback fn);
  bool Reserve(size_t n, bool charge_budget);
  // `n` queued bytes left (written or dropped), `charged` of them counted
  // in the budget.
  void ReleaseBytes(size_t n, size_t charged);
  // What this connection still holds of the budget, once it cannot write.
  void ReleaseBudget();
  // Of the next `n` bytes written, how many were not charged to the budget.
  size_t ConsumeUncharged(size_t n);
  absl::Status Overflow(size_t n);

  void ContinueHandshake();
  void FinishEstablish();
  // Channel::Handler.
  Channel::Handler* AsHandler() { return this; }  // the base is private
  void OnReadable() override { HandleRead(); }
  void OnWritable() override { HandleWrite(); }
  void OnHangUp() override { HandleHangUp(); }
  void OnError() override { HandleSocketError(); }
  void HandleRead();
  void HandleWrite();
  void HandleHangUp();
  void HandleSocketError();
  // Hands input_ to the handler and flushes what it sent.
  void DeliverInput();
  // Tells the owner how much input is held now (`after`).
  void UpdateHeldInput(size_t after);
  // After reading resumed: input the handler left while it had paused
  // reading, then the peer's EOF if that came meanwhile.
  void DeliverHeldInput();
  void HandlePeerEof();
  void FinishPeerEof();
  // Closes with eof_reason_ (reported when it is an error).
  void CloseAfterPeerEof();

  void ScheduleFlush();
  void DrainPending();
  // Moves bytes sent from other threads behind the output; false if closed.
  bool MovePendingToOutput();
  void FlushOutput();
  void FinishShutdown();
  void ShutdownInLoop();
  void FinishShutdownRequest();
  // Runs `step` on the loop once the handler's work queued so far is done
  // (ConnectionHandler::Execute), so replies to what was delivered go out
  // before the connection closes.
  void AfterHandlerWork(void (Connection::*step)());
  void CloseInLoop(absl::Status reason, bool report_error);
  void StartLingerTimer();
  void CheckHighWaterMark();
  void CheckLowWaterMark();
  void UpdateReading();
  // Queues a read turn while the transport holds input that epoll will not
  // announce (TLS records already read from the socket) and reading is on.
  void ScheduleBufferedRead();
  void SetState(State state) { state_.store(state, std::memory_order_release); }

  EventLoop* const loop_;
  const uint64_t id_;
  const std::unique_ptr<Transport> transport_;
  // 40 bytes each instead of 136 for TCP.
  const CompactAddress local_address_;
  const CompactAddress peer_address_;
  const std::shared_ptr<const ConnectionOptions> options_;  // shared
  const std::unique_ptr<ConnectionHandler> handler_;
  const std::shared_ptr<OutputBudget> budget_;  // may be null
  ConnectionOwner* const owner_;                // may be null

  std::atomic<State> state_{State::kConnecting};

  // Loop thread only.
  std::unique_ptr<Channel> channel_;
  Buffer input_;  // allocated on the first read
  OutputQueue output_;
  bool in_read_handler_ = false;
  bool flush_after_read_ = false;
  bool flush_queued_ = false;
  bool peer_eof_ = false;
  bool peer_eof_handled_ = false;  // HandlePeerEof passed the input on
  // What ConnectionHandler::OnPeerEof said: the reason of the close that
  // the EOF leads to.
  absl::Status eof_reason_;
  bool shutdown_requested_ = false;
  bool write_shut_down_ = false;
  bool above_high_water_ = false;
  bool paused_by_backpressure_ = false;
  bool paused_by_user_ = false;
  // Between a Shutdown request and the handler finishing what was
  // delivered: no new input is read meanwhile.
  bool paused_for_shutdown_ = false;
  bool established_ = false;
  // Byte ranges [begin, end) of the output stream (counted from the first
  // byte ever queued) that were not charged to the budget; usually empty.
  uint64_t appended_ = 0;  // bytes ever moved into output_
  uint64_t consumed_ = 0;  // bytes ever written from output_
  // A vector, not a deque: an empty deque allocates (~600 bytes per idle
  // connection); ranges are few and leave from the front.
  std::vector<std::pair<uint64_t, uint64_t>> uncharged_;
  bool read_queued_ = false;  // a ScheduleBufferedRead turn is pending
  TimerId linger_timer_;
  TimerId handshake_timer_;

  // Output handed over by other threads; drained by the loop.
  absl::Mutex pending_mu_;
  OutputQueue pending_ ABSL_GUARDED_BY(pending_mu_);
  // Uncharged ranges of pending_, as offsets into it.
  std::vector<std::pair<size_t, size_t>> pending_uncharged_
      ABSL_GUARDED_BY(pending_mu_);
  bool drain_queued_ ABSL_GUARDED_BY(pending_mu_) = false;
  // pending_ may be non-empty; lets the loop's own sends skip the lock.
  std::atomic<bool> has_pending_{false};

  // Accepted, not yet written: output_ + pending_ (+ in-flight Sends).
  std::atomic<size_t> queued_bytes_{0};
  // The part of queued_bytes_ charged to budget_.
  std::atomic<size_t> budget_held_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> dropped_sends_{0};
  std::atomic<size_t> held_input_{0};  // written on the loop thread
  std::atomic<int64_t> last_read_ns_{0};
  std::atomic<int64_t> last_write_ns_{0};

  mutable absl::Mutex mu_;
  absl::Status close_reason_ ABSL_GUARDED_BY(mu_);
  // What most connections never use, allocated on first use so an idle
  // connection stays small.
  struct Extras {
    std::string name;  // empty: "<peer>#<id>"
    // Pending connection-bound timers (loop-level ids), cancelled on close.
    absl::flat_hash_set<uint64_t> timers;
  };
  std::unique_ptr<Extras> extras_ ABSL_GUARDED_BY(mu_);
  Extras& ExtrasLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (extras_ == nullptr) extras_ = std::make_unique<Extras>();
    return *extras_;
  }
};

}  // namespace tao

#endif  // TAO_NET_CONNECTION_H_
