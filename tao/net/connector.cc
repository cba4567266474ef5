#include "tao/net/connector.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "tao/base/logging.h"
#include "tao/net/channel.h"
#include "tao/net/event_loop.h"

namespace tao {

Connector::Connector(EventLoop* loop, InetAddress address,
                     absl::Duration connect_timeout, ReconnectPolicy policy)
    : loop_(loop),
      address_(std::move(address)),
      connect_timeout_(connect_timeout),
      policy_(policy) {}

Connector::~Connector() {
  if (channel_ != nullptr && channel_->registered()) channel_->Remove();
}

absl::Duration Connector::BackoffFor(const ReconnectPolicy& policy,
                                     int attempt) {
  double scale =
      std::pow(std::max(policy.multiplier, 1.0), std::max(attempt - 1, 0));
  absl::Duration backoff = policy.initial_backoff * std::min(scale, 1e9);
  return std::min(backoff, policy.max_backoff);
}

void Connector::Start(ConnectedCallback on_connected,
                      FailedCallback on_failed) {
  loop_->RunInLoop([self = shared_from_this(),
                    on_connected = std::move(on_connected),
                    on_failed = std::move(on_failed)]() mutable {
    self->on_connected_ = std::move(on_connected);
    self->on_failed_ = std::move(on_failed);
    self->stopped_ = false;
    self->Attempt();
  });
}

void Connector::Stop() {
  loop_->RunInLoop([self = shared_from_this()] {
    self->stopped_ = true;
    self->loop_->Cancel(self->retry_timer_);
    self->retry_timer_ = TimerId{};
    self->Cleanup();
  });
}

void Connector::Retry() {
  loop_->RunInLoop([self = shared_from_this()] {
    if (self->stopped_) return;
    ++self->failures_;
    self->ScheduleRetry();
  });
}

void Connector::ResetBackoff() {
  loop_->RunInLoop([self = shared_from_this()] { self->failures_ = 0; });
}

void Connector::Attempt() {
  if (stopped_) return;
  absl::StatusOr<Socket> socket = Socket::Create(address_.family());
  if (!socket.ok()) {
    Fail(socket.status());
    return;
  }
  socket_ = *std::move(socket);
  absl::StatusOr<bool> connected = socket_.Connect(address_);
  if (!connected.ok()) {
    Fail(connected.status());
    return;
  }
  if (*connected) {
    HandleWritable();
    return;
  }
  channel_ = std::make_unique<Channel>(loop_, socket_.fd(), AsHandler());
  channel_->Tie(weak_from_this());
  channel_->EnableWriting();
  std::weak_ptr<Connector> weak = weak_from_this();
  timeout_timer_ = loop_->RunAfter(connect_timeout_, [weak] {
    std::shared_ptr<Connector> self = weak.lock();
    if (self == nullptr) return;
    self->timeout_timer_ = TimerId{};
    self->Fail(absl::DeadlineExceededError(absl::StrCat(
        "connect to ", self->address_.ToString(), ": no answer within ",
        absl::FormatDuration(self->connect_timeout_))));
  });
}

void Connector::HandleWritable() {
  StopWatching();
  absl::Status error = socket_.TakeError();
  if (!error.ok()) {
    Fail(absl::Status(error.code(),
                      absl::StrCat("connect to ", address_.ToString(), ": ",
                                   error.message())));
    return;
  }
  absl::StatusOr<InetAddress> local = socket_.LocalAddress();
  absl::StatusOr<InetAddress> peer = socket_.PeerAddress();
  if (!peer.ok()) {
    Fail(absl::Status(peer.status().code(),
                      absl::StrCat("connect to ", address_.ToString(), ": ",
                                   peer.status().message())));
    return;
  }
  if (local.ok() && address_.is_ip() && *local == *peer) {
    Fail(absl::UnavailableError(
        absl::StrCat("connect to ", address_.ToString(), ": self-connect")));
    return;
  }
  // Connected is not yet useful (the owner says when: ResetBackoff), so
  // failures_ keeps counting.
  if (stopped_) {
    socket_.Close();
    return;
  }
  on_connected_(std::move(socket_));
  socket_ = Socket();
}

void Connector::Fail(absl::Status error) {
  Cleanup();
  if (stopped_) return;
  ++failures_;
  const bool will_retry = policy_.enabled && (policy_.max_attempts <= 0 ||
                                              failures_ < policy_.max_attempts);
  if (on_failed_) on_failed_(error, will_retry);
  if (will_retry && !stopped_) ScheduleRetry();
}

void Connector::ScheduleRetry() {
  absl::Duration delay = BackoffFor(policy_, failures_);
  if (policy_.jitter > 0) {
    double factor =
        absl::Uniform(random_, 1.0 - policy_.jitter, 1.0 + policy_.jitter);
    delay = delay * std::max(factor, 0.0);
  }
  std::weak_ptr<Connector> weak = weak_from_this();
  retry_timer_ = loop_->RunAfter(delay, [weak] {
    std::shared_ptr<Connector> self = weak.lock();
    if (self == nullptr) return;
    self->retry_timer_ = TimerId{};
    self->Attempt();
  });
}

void Connector::StopWatching() {
  if (channel_ != nullptr) {
    channel_->Remove();
    // Destroyed later: this may run inside the channel's own handler.
    loop_->QueueInLoop(
        [channel = std::shared_ptr<Channel>(std::move(channel_))] {});
  }
  loop_->Cancel(timeout_timer_);
  timeout_timer_ = TimerId{};
}

void Connector::Cleanup() {
  StopWatching();
  socket_.Close();
}

}  // namespace tao
