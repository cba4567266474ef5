#include "tao/message/heartbeat.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/net/event_loop.h"
#include "tao/net/transport.h"
#include "tao/timer/timer_queue.h"

namespace tao {
namespace {

constexpr absl::Duration kMinTick = absl::Milliseconds(1);
constexpr absl::Duration kMaxTick = absl::Seconds(1);

bool On(absl::Duration d) { return d > absl::ZeroDuration(); }

// Idle deadlines are checked to 1/8 of the shortest one.
absl::Duration TickFor(const HeartbeatOptions& options) {
  absl::Duration shortest = absl::InfiniteDuration();
  for (absl::Duration d :
       {options.timeout, options.reader_idle, options.writer_idle}) {
    if (On(d)) shortest = std::min(shortest, d);
  }
  if (shortest == absl::InfiniteDuration()) return kMaxTick;
  return std::clamp(shortest / 8, kMinTick, kMaxTick);
}

}  // namespace

std::string EncodeHeartbeatPayload(absl::Time now) {
  const uint64_t nanos = static_cast<uint64_t>(absl::ToUnixNanos(now));
  std::string payload(8, '\0');
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>(nanos >> (8 * i));
  return payload;
}

namespace {

// Bytes the peer acknowledged and bytes still waiting (ours + kernel's).
struct Progress {
  uint64_t acked;
  size_t backlog;
};

Progress ProgressOf(Connection& connection) {
  const size_t unsent =
      connection.transport().socket().UnsentBytes().value_or(0);
  const uint64_t written = connection.bytes_written();
  return Progress{written > unsent ? written - unsent : 0,
                  connection.queued_output_bytes() + unsent};
}

}  // namespace

HeartbeatMonitor::HeartbeatMonitor(const HeartbeatOptions& options,
                                   const Codec* codec, IdleCallback on_idle)
    : options_(options),
      codec_(codec),
      send_heartbeats_(On(options.interval)),
      enabled_(send_heartbeats_ || On(options.timeout) ||
               On(options.reader_idle) || On(options.writer_idle)),
      tick_(TickFor(options)),
      on_idle_(std::move(on_idle)) {}

HeartbeatMonitor::~HeartbeatMonitor() = default;

TimingWheel& HeartbeatMonitor::WheelFor(EventLoop* loop) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<TimingWheel>& wheel = wheels_[loop];
  if (wheel == nullptr) {
    wheel = std::make_shared<TimingWheel>(loop->clock(), tick_);
    // The loop may outlive this monitor (clients come and go on shared
    // loops): the tick must not reach into a destroyed wheel, nor keep
    // ticking forever for nobody.
    auto tick_id = std::make_shared<TimerId>();
    *tick_id = loop->RunEvery(
        tick_, [weak = std::weak_ptr<TimingWheel>(wheel), loop, tick_id] {
          if (std::shared_ptr<TimingWheel> live = weak.lock()) {
            live->Advance();
          } else {
            loop->Cancel(*tick_id);
          }
        });
  }
  return *wheel;
}

void HeartbeatMonitor::Attach(Connection& connection, ConnectionState& state) {
  if (!enabled_) return;
  connection.loop()->AssertInLoopThread();
  const bool checks = On(options_.timeout) || On(options_.reader_idle) ||
                      On(options_.writer_idle);
  if (send_heartbeats_) {
    connection.RunEvery(options_.interval, [codec = codec_](Connection& c) {
      std::string frame;
      if (codec
              ->AppendFrame(kHeartbeatType, EncodeHeartbeatPayload(absl::Now()),
                            &frame)
              .ok()) {
        (void)c.Send(frame);
      }
    });
  }
  if (!checks) return;
  state.wheel = &WheelFor(connection.loop());
  const Progress progress = ProgressOf(connection);
  state.acked = progress.acked;
  state.backlog = progress.backlog;
  Arm(connection, state, connection.loop()->Now());
}

void HeartbeatMonitor::Detach(ConnectionState& state) {
  if (state.wheel == nullptr) return;
  state.wheel->Cancel(state.check);
  state.check = WheelTimerId{};
}

void HeartbeatMonitor::Arm(Connection& connection, ConnectionState& state,
                           MonoTime now) {
  // The next moment one of the enabled idle conditions could become true.
  MonoTime next = MonoTime::max();
  auto consider = [&](absl::Duration limit, MonoTime last) {
    if (!On(limit)) return;
    MonoTime due = AddDuration(last, limit);
    if (due <= now) due = AddDuration(now, limit);  // this stretch was handled
    next = std::min(next, due);
  };
  consider(options_.timeout, connection.last_read_time());
  consider(options_.reader_idle, connection.last_read_time());
  consider(options_.writer_idle, connection.last_write_time());
  const absl::Duration delay = ToDuration(next - now);
  if (!state.wheel->Refresh(state.check, delay)) {
    // `state` lives in the connection's handler: valid while the
    // connection is, and Detach cancels this entry before it goes.
    state.check =
        state.wheel->Add(delay, [this, weak = connection.weak_from_this(),
                                 &state] { Check(weak, state); });
  }
}

void HeartbeatMonitor::Check(const std::weak_ptr<Connection>& weak,
                             ConnectionState& state_ref) {
  std::shared_ptr<Connection> connection = weak.lock();
  if (connection == nullptr ||
      connection->state() == Connection::State::kClosed) {
    return;
  }
  ConnectionState* const state = &state_ref;
  state->check = WheelTimerId{};
  const MonoTime now = connection->loop()->Now();
  const MonoTime last_read = connection->last_read_time();
  const MonoTime last_write = connection->last_write_time();

  const Progress progress = ProgressOf(*connection);
  // Draining: the peer acknowledged output since the last check while we
  // had (or still have) a backlog. Acknowledged heartbeats alone prove only
  // that the peer's kernel is alive, not the peer.
  const bool draining = progress.acked > state->acked &&
                        (state->backlog > 0 || progress.backlog > 0);
  state->acked = progress.acked;
  state->backlog = progress.backlog;
  if (On(options_.timeout) &&
      now - last_read >= absl::ToChronoNanoseconds(options_.timeout) &&
      !draining) {
    closed_idle_.fetch_add(1, std::memory_order_relaxed);
    connection->CloseWithError(absl::DeadlineExceededError(absl::StrCat(
        "no traffic from ", connection->peer_address().ToString(), " for ",
        absl::FormatDuration(ToDuration(now - last_read)),
        " (heartbeat timeout ", absl::FormatDuration(options_.timeout), ")")));
    return;
  }
  if (on_idle_ && On(options_.reader_idle) &&
      now - last_read >= absl::ToChronoNanoseconds(options_.reader_idle) &&
      state->reader_reported != last_read) {
    state->reader_reported = last_read;
    on_idle_(*connection, IdleKind::kReaderIdle);
  }
  if (on_idle_ && On(options_.writer_idle) &&
      now - last_write >= absl::ToChronoNanoseconds(options_.writer_idle) &&
      state->writer_reported != last_write) {
    state->writer_reported = last_write;
    on_idle_(*connection, IdleKind::kWriterIdle);
  }
  if (connection->state() == Connection::State::kClosed) return;
  Arm(*connection, *state, now);
}

}  // namespace tao
