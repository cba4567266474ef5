// HeartbeatMonitor: Go-tao-compatible heartbeats and idle detection for the
// connections of one server or client (see HeartbeatOptions).
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
// Thread safety: Attach and Detach run on the connection's loop thread.
// closed_idle() from any thread. The monitor must outlive the loops'
// timers: destroy it after the loops stopped.
#ifndef TAO_MESSAGE_HEARTBEAT_H_
#define TAO_MESSAGE_HEARTBEAT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/options.h"
#include "tao/timer/timing_wheel.h"

namespace tao {

class EventLoop;

// The heartbeat frame's type and payload (Go tao's HeartBeatMessage).
inline constexpr int32_t kHeartbeatType = 0;
std::string EncodeHeartbeatPayload(absl::Time now);

class HeartbeatMonitor {
 public:
  // `send_heartbeats`: whether this endpoint sends heartbeats when
  // options.interval > 0 (only endpoints with message framing do).
  HeartbeatMonitor(const HeartbeatOptions& options, bool send_heartbeats,
                   IdleCallback on_idle);
  ~HeartbeatMonitor();
  HeartbeatMonitor(const HeartbeatMonitor&) = delete;
  HeartbeatMonitor& operator=(const HeartbeatMonitor&) = delete;

  // Whether any of the options is on (else Attach/Detach do nothing).
  bool enabled() const { return enabled_; }

  void Attach(Connection& connection);
  void Detach(Connection& connection);

  // Connections closed for silence.
  uint64_t closed_idle() const {
    return closed_idle_.load(std::memory_order_relaxed);
  }

  // The wheel's tick: idle closes happen within timeout + one tick.
  absl::Duration tick() const { return tick_; }

 private:
  struct State;

  TimingWheel& WheelFor(EventLoop* loop);
  void Arm(Connection& connection, State& state, MonoTime now);
  void Check(const std::weak_ptr<Connection>& weak);

  const HeartbeatOptions options_;
  const bool send_heartbeats_;
  const bool enabled_;
  const absl::Duration tick_;
  const IdleCallback on_idle_;
  std::atomic<uint64_t> closed_idle_{0};

  absl::Mutex mu_;
  // One wheel per loop, created on first use on that loop's thread and
  // used only there.
  absl::flat_hash_map<EventLoop*, std::unique_ptr<TimingWheel>> wheels_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace tao

#endif  // TAO_MESSAGE_HEARTBEAT_H_
