// HeartbeatMonitor: Go-tao-compatible heartbeats and idle detection for the
// connections of one message server or client (see HeartbeatOptions).
//
// Per I/O loop it keeps one TimingWheel, ticked by the loop's timer queue;
// per connection one wheel entry that fires at the connection's next idle
// deadline. Traffic costs nothing per message: the check reads the
// connection's last-read/last-write times when the entry fires and re-arms
// it for the next deadline (Netty's IdleStateHandler does the same).
//
// A connection silent for `timeout` is closed unless the peer acknowledged
// some of our output since the last check (kernel send queue shrinking):
// that peer is slow, not dead.
//
// The per-connection part (ConnectionState) lives in the connection's
// MessageHandler; the monitor keeps what its connections share.
//
// Thread safety: Attach and Detach run on the connection's loop thread.
// closed_idle() from any thread. The monitor may go before its loops do (a
// Client on shared loops) once its connections are closed: each loop's tick
// holds the wheel weakly and cancels itself when the monitor is gone.
#ifndef TAO_MESSAGE_HEARTBEAT_H_
#define TAO_MESSAGE_HEARTBEAT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "codec/codec.h"
#include "tao/message/options.h"
#include "tao/net/connection.h"
#include "tao/timer/timing_wheel.h"

namespace tao {

class EventLoop;

// The heartbeat frame's payload (Go tao's HeartBeatMessage; its type is
// kHeartbeatType, codec/codec.h).
std::string EncodeHeartbeatPayload(absl::Time now);

// A connection was idle for HeartbeatOptions::reader_idle / writer_idle.
enum class IdleKind { kReaderIdle, kWriterIdle };
using IdleCallback = std::function<void(Connection&, IdleKind)>;

class HeartbeatMonitor {
 public:
  // One connection's heartbeat state; loop thread only.
  struct ConnectionState {
    TimingWheel* wheel = nullptr;
    WheelTimerId check;
    // Output the peer had acknowledged, and our backlog, at the last check.
    uint64_t acked = 0;
    size_t backlog = 0;
    // The last-read / last-write time an idle callback already reported.
    MonoTime reader_reported{};
    MonoTime writer_reported{};
  };

  // Heartbeats are framed with `codec`; idle stretches are reported to
  // `on_idle` (on the loop thread).
  HeartbeatMonitor(const HeartbeatOptions& options, const Codec* codec,
                   IdleCallback on_idle);
  ~HeartbeatMonitor();
  HeartbeatMonitor(const HeartbeatMonitor&) = delete;
  HeartbeatMonitor& operator=(const HeartbeatMonitor&) = delete;

  // Whether any of the options is on (else Attach/Detach do nothing).
  bool enabled() const { return enabled_; }

  // Starts heartbeats and idle checks for `connection`, whose handler owns
  // `state` (so `state` lives as long as the connection).
  void Attach(Connection& connection, ConnectionState& state);
  void Detach(ConnectionState& state);

  // Connections closed for silence.
  uint64_t closed_idle() const {
    return closed_idle_.load(std::memory_order_relaxed);
  }

  // The wheel's tick: idle closes happen within timeout + one tick.
  absl::Duration tick() const { return tick_; }

 private:
  TimingWheel& WheelFor(EventLoop* loop);
  void Arm(Connection& connection, ConnectionState& state, MonoTime now);
  void Check(const std::weak_ptr<Connection>& weak, ConnectionState& state);

  const HeartbeatOptions options_;
  const Codec* const codec_;
  const bool send_heartbeats_;
  const bool enabled_;
  const absl::Duration tick_;
  const IdleCallback on_idle_;
  std::atomic<uint64_t> closed_idle_{0};

  absl::Mutex mu_;
  // One wheel per loop, created on first use on that loop's thread and
  // used only there. Shared with the loop's tick, which holds it weakly.
  absl::flat_hash_map<EventLoop*, std::shared_ptr<TimingWheel>> wheels_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_MESSAGE_HEARTBEAT_H_
