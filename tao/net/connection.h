// Connection: one established byte stream (TCP or Unix-domain, later TLS),
// owned by exactly one EventLoop for its whole life.
//
//   server.OnData([](tao::Connection& c, tao::Buffer& in) {
//     c.Send(in.view());          // echo
//     in.RetrieveAll();
//   });
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
//   set_name/name, the context values and every accessor are safe from any
//   thread. The work itself always happens on the owning loop's thread.
// - Callbacks (Handlers) run on the loop thread.
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
// Lifetime: held by std::shared_ptr (ConnectionPtr). OnClose runs exactly
// once, on the loop thread, after which every Send fails with
// FAILED_PRECONDITION. Timers and posted work hold weak references.
#ifndef TAO_NET_CONNECTION_H_
#define TAO_NET_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/base/clock.h"
#include "tao/net/buffer.h"
#include "tao/net/callbacks.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/output_budget.h"
#include "tao/net/output_queue.h"
#include "tao/net/transport.h"
#include "tao/timer/timer_queue.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace tao {

class Channel;
class Codec;
class EventLoop;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kConnecting, kConnected, kDisconnecting, kClosed };

  // Callbacks shared by all connections of one server or client. Set before
  // the first connection exists; never changed afterwards.
  struct Handlers {
    ConnectCallback on_connect;
    DataCallback on_data;
    CloseCallback on_close;
    ErrorCallback on_error;
    HighWaterMarkCallback on_high_water_mark;
    LowWaterMarkCallback on_low_water_mark;
  };

  // Runs on the loop thread after OnClose; the owner's bookkeeping.
  using ClosedHook = absl::AnyInvocable<void(Connection&)>;

  // `codec` frames Send(message)/SendRaw; `budget` may be null.
  Connection(EventLoop* loop, uint64_t id, std::unique_ptr<Transport> transport,
             InetAddress local_address, InetAddress peer_address,
             std::shared_ptr<const ConnectionOptions> options,
             std::shared_ptr<const Handlers> handlers,
             std::shared_ptr<const Codec> codec,
             std::shared_ptr<OutputBudget> budget, ClosedHook closed_hook);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- Identity ---
  uint64_t id() const { return id_; }
  std::string name() const;
  void set_name(std::string name);
  const InetAddress& local_address() const { return local_address_; }
  const InetAddress& peer_address() const { return peer_address_; }
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
  // Frames and sends a protobuf message; its type id is its
  // (tao.message_id) option (NOT_FOUND without one). Encoding reuses a
  // per-thread buffer, so it allocates nothing in steady state.
  absl::Status Send(const google::protobuf::Message& message);
  // Frames and sends a raw payload of the given type (Go tao peers with
  // hand-made payloads).
  absl::Status SendRaw(int32_t type, absl::string_view payload);
  const Codec& codec() const { return *codec_; }

  // --- Closing (any thread; idempotent) ---
  // Graceful half-close: flush queued output, then FIN; keep reading until
  // the peer closes too (bounded by ConnectionOptions::linger).
  void Shutdown();
  // Closes now; queued output is discarded. close_reason() is OK.
  void Close();
  // Reports `reason` to OnError, then closes now.
  void CloseWithError(absl::Status reason);

  // --- Timers bound to this connection (any thread) ---
  // Callbacks run on the loop thread with the connection, and never after
  // it closed: closing cancels every pending timer of the connection.
  // Return an invalid TimerId when the connection is already closed.
  using TimerCallback = absl::AnyInvocable<void(Connection&)>;
  TimerId RunAt(MonoTime deadline, TimerCallback fn);
  TimerId RunAfter(absl::Duration delay, TimerCallback fn);
  TimerId RunEvery(absl::Duration interval, TimerCallback fn);
  // No-op for fired, cancelled or unknown ids.
  void CancelTimer(TimerId id);

  // --- Flow control (any thread) ---
  // Stops / resumes delivering input (e.g. while a worker queue is full).
  void PauseReading();
  void ResumeReading();

  // --- Typed per-connection values (any thread) ---
  // One value per type T, e.g. conn.SetValue(Session{...});
  template <typename T>
  void SetValue(T value) {
    absl::MutexLock lock(&mu_);
    ExtrasLocked().values[TypeKey<T>()] = std::make_shared<T>(std::move(value));
  }
  // nullptr when no value of type T was set.
  template <typename T>
  std::shared_ptr<T> GetValue() const {
    absl::MutexLock lock(&mu_);
    if (extras_ == nullptr) return nullptr;
    auto it = extras_->values.find(TypeKey<T>());
    if (it == extras_->values.end()) return nullptr;
    return std::static_pointer_cast<T>(it->second);
  }
  template <typename T>
  void EraseValue() {
    absl::MutexLock lock(&mu_);
    if (extras_ != nullptr) extras_->values.erase(TypeKey<T>());
  }

  // --- Statistics (any thread) ---
  MonoTime last_read_time() const;
  MonoTime last_write_time() const;
  uint64_t bytes_read() const { return bytes_read_.load(kRelaxed); }
  uint64_t bytes_written() const { return bytes_written_.load(kRelaxed); }
  // Output accepted by Send and not yet written to the socket.
  size_t queued_output_bytes() const { return queued_bytes_.load(kRelaxed); }
  // Sends refused under OverflowPolicy::kDropNewest.
  uint64_t dropped_sends() const { return dropped_sends_.load(kRelaxed); }

  // --- Owner interface (loop thread) ---
  // Starts the connection: runs the transport's handshake (if any), then
  // OnConnect, then begins reading.
  void Establish();
  // The byte stream (TCP or TLS); loop thread only.
  Transport& transport() const { return *transport_; }
  // State that the protocol layer above (the message dispatcher) keeps per
  // connection; loop thread only. Destroyed with the connection.
  void* protocol_state() const { return protocol_state_.get(); }
  void set_protocol_state(std::shared_ptr<void> state) {
    protocol_state_ = std::move(state);
  }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;

  template <typename T>
  static const void* TypeKey() {
    static const char key = 0;
    return &key;
  }

  template <typename Bytes>
  absl::Status SendImpl(const Bytes& bytes);
  TimerId AddTimer(MonoTime deadline, absl::Duration interval,
                   TimerCallback fn);
  bool Reserve(size_t n);
  void ReleaseBytes(size_t n);
  absl::Status Overflow(size_t n);

  void ContinueHandshake();
  void FinishEstablish();
  void HandleRead();
  void HandleWrite();
  void HandleHangUp();
  void HandleSocketError();
  void HandlePeerEof();

  void ScheduleFlush();
  void DrainPending();
  // Moves bytes sent from other threads behind the output; false if closed.
  bool MovePendingToOutput();
  void FlushOutput();
  void FinishShutdown();
  void ShutdownInLoop();
  void CloseInLoop(absl::Status reason, bool report_error);
  void StartLingerTimer();
  void CheckHighWaterMark();
  void CheckLowWaterMark();
  void UpdateReading();
  void SetState(State state) { state_.store(state, std::memory_order_release); }

  EventLoop* const loop_;
  const uint64_t id_;
  const std::unique_ptr<Transport> transport_;
  const InetAddress local_address_;
  const InetAddress peer_address_;
  const std::shared_ptr<const ConnectionOptions> options_;  // shared
  const std::shared_ptr<const Handlers> handlers_;
  const std::shared_ptr<const Codec> codec_;
  const std::shared_ptr<OutputBudget> budget_;  // may be null
  ClosedHook closed_hook_;

  std::atomic<State> state_{State::kConnecting};

  // Loop thread only.
  std::shared_ptr<void> protocol_state_;
  std::unique_ptr<Channel> channel_;
  Buffer input_;  // allocated on the first read
  OutputQueue output_;
  bool in_read_handler_ = false;
  bool flush_after_read_ = false;
  bool flush_queued_ = false;
  bool peer_eof_ = false;
  bool write_shut_down_ = false;
  bool above_high_water_ = false;
  bool paused_by_backpressure_ = false;
  bool paused_by_user_ = false;
  bool established_ = false;
  TimerId linger_timer_;
  TimerId handshake_timer_;

  // Output handed over by other threads; drained by the loop.
  absl::Mutex pending_mu_;
  absl::Cord pending_ ABSL_GUARDED_BY(pending_mu_);
  bool drain_queued_ ABSL_GUARDED_BY(pending_mu_) = false;
  // pending_ may be non-empty; lets the loop's own sends skip the lock.
  std::atomic<bool> has_pending_{false};

  // Accepted, not yet written: output_ + pending_ (+ in-flight Sends).
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> dropped_sends_{0};
  std::atomic<int64_t> last_read_ns_{0};
  std::atomic<int64_t> last_write_ns_{0};

  mutable absl::Mutex mu_;
  absl::Status close_reason_ ABSL_GUARDED_BY(mu_);
  // What most connections never use, allocated on first use so an idle
  // connection stays small.
  struct Extras {
    std::string name;  // empty: "<peer>#<id>"
    absl::flat_hash_map<const void*, std::shared_ptr<void>> values;
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
