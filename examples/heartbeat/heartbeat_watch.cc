#include "examples/heartbeat/heartbeat_watch.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace heartbeat_example {

absl::StatusOr<absl::Time> DecodeHeartbeat(absl::string_view payload) {
  if (payload.size() != sizeof(int64_t)) {
    return absl::InvalidArgumentError(
        absl::StrCat("heartbeat has ", payload.size(),
                     " payload bytes, not 8 (an int64 timestamp)"));
  }
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) {  // little-endian
    bits = (bits << 8) | static_cast<uint8_t>(payload[i]);
  }
  return absl::FromUnixNanos(static_cast<int64_t>(bits));
}

absl::Status HeartbeatWatch::Register(tao::Registry* registry) {
  return registry->RegisterRaw(
      tao::kHeartbeatType,
      [this](tao::Context& ctx, absl::string_view payload) {
        Beat(ctx, payload);
      });
}

void HeartbeatWatch::Beat(tao::Context& ctx, absl::string_view payload) {
  const std::string peer = ctx.connection().peer_address().ToString();
  absl::StatusOr<absl::Time> sent = DecodeHeartbeat(payload);
  if (!sent.ok()) {
    ctx.connection().CloseWithError(sent.status());
    return;
  }
  absl::MutexLock lock(&mu_);
  const int n = ++peers_[peer].beats;
  timeline_->Say(absl::StrCat(
      "server: heartbeat #", n, " from ", peer, " (sent at ",
      absl::FormatTime("%H:%M:%E3S", *sent, absl::UTCTimeZone()), " UTC, ",
      absl::FormatDuration(absl::Now() - *sent), " ago)"));
}

void HeartbeatWatch::Attach(tao::Server& server) {
  server.OnConnect([this](tao::Connection& c) {
    const std::string peer = c.peer_address().ToString();
    absl::MutexLock lock(&mu_);
    peers_[peer] = Peer();
    timeline_->Say(absl::StrCat("server: ", peer, " connected"));
    return true;
  });
  server.OnError([this](tao::Connection& c, const absl::Status& error) {
    timeline_->Say(absl::StrCat("server: error on ",
                                c.peer_address().ToString(), ": ",
                                error.ToString()));
  });
  server.OnClose([this](tao::Connection& c) {
    const std::string peer = c.peer_address().ToString();
    absl::MutexLock lock(&mu_);
    Peer& p = peers_[peer];
    p.closed = true;
    p.reason = c.close_reason();
    timeline_->Say(absl::StrCat("server: closed ", peer, " after ", p.beats,
                                " heartbeats: ", p.reason.ToString()));
  });
}

absl::StatusOr<absl::Status> HeartbeatWatch::WaitClosed(
    const std::string& peer, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto closed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return peers_[peer].closed;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&closed), timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        peer, " still open after ", absl::FormatDuration(timeout)));
  }
  return peers_[peer].reason;
}

bool HeartbeatWatch::WaitBeats(const std::string& peer, int beats,
                               absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto settled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return peers_[peer].closed || peers_[peer].beats >= beats;
  };
  mu_.AwaitWithTimeout(absl::Condition(&settled), timeout);
  return !peers_[peer].closed && peers_[peer].beats >= beats;
}

int HeartbeatWatch::beats(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  return peers_[peer].beats;
}

}  // namespace heartbeat_example
