#include "examples/reconnect/backoff_log.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace reconnect_example {

absl::Duration BackoffLog::Nominal(const tao::ReconnectPolicy& policy, int n) {
  const double scale = std::pow(std::max(policy.multiplier, 1.0), n - 1);
  return std::min(policy.initial_backoff * std::min(scale, 1e9),
                  policy.max_backoff);
}

void BackoffLog::Attach(tao::Client& client) {
  client.OnConnect([this](tao::Connection& c) {
    Connected(c);
    return true;
  });
  client.OnClose([this](tao::Connection& c) { Lost(c); });
  client.OnConnectFailed([this](const absl::Status& error, bool will_retry) {
    Failed(error, will_retry);
  });
}

void BackoffLog::Connected(tao::Connection& c) {
  absl::MutexLock lock(&mu_);
  ++connects_;
  connected_at_ = absl::Now();
  const std::string waited = EndWait();
  timeline_->Say(absl::StrCat("client: connected to ",
                              c.peer_address().ToString(), waited,
                              " (connection #", connects_, ")"));
}

std::string BackoffLog::EndWait() {
  if (!waiting_.has_value()) return "";
  const absl::Duration took = absl::Now() - waiting_since_;
  const double factor = absl::FDivDuration(took, *waiting_);
  factors_.push_back(factor);
  std::string waited = absl::StrFormat(
      " after waiting %s (nominal %s, jitter x%.3f)",
      absl::FormatDuration(absl::Trunc(took, absl::Microseconds(100))),
      absl::FormatDuration(*waiting_), factor);
  waiting_.reset();
  return waited;
}

void BackoffLog::Lost(tao::Connection& c) {
  absl::MutexLock lock(&mu_);
  // ReconnectPolicy::healthy_after: a useful connection restarts the
  // backoff; one that was not is reported as a failed attempt (Failed).
  const bool useful = c.bytes_read() > 0 ||
                      absl::Now() - connected_at_ >= policy_.healthy_after;
  timeline_->Say(absl::StrCat("client: lost the connection to ",
                              c.peer_address().ToString(), " (",
                              c.close_reason().ToString(), ")",
                              useful ? "" : ", before it was useful"));
  if (useful && !stopping_) {
    retries_ = 0;
    ExpectRetry("reconnecting");
  }
}

void BackoffLog::Stopping() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

void BackoffLog::Failed(const absl::Status& error, bool will_retry) {
  absl::MutexLock lock(&mu_);
  ++failures_;
  const std::string waited = EndWait();
  timeline_->Say(
      absl::StrCat("client: attempt failed", waited, ": ", error.ToString()));
  if (will_retry) {
    ExpectRetry("retrying");
  } else {
    timeline_->Say("client: giving up");
  }
}

void BackoffLog::ExpectRetry(const char* after) {
  ++retries_;
  waiting_ = Nominal(policy_, retries_);
  waiting_since_ = absl::Now();
  timeline_->Say(absl::StrFormat(
      "client: %s, retry #%d in %s +-%.0f%% (%s to %s)", after, retries_,
      absl::FormatDuration(*waiting_), policy_.jitter * 100,
      absl::FormatDuration(*waiting_ * (1 - policy_.jitter)),
      absl::FormatDuration(*waiting_ * (1 + policy_.jitter))));
}

bool BackoffLog::WaitCount(const int* count, int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto reached = [count, n]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return *count >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool BackoffLog::WaitConnects(int n, absl::Duration timeout) {
  return WaitCount(&connects_, n, timeout);
}

bool BackoffLog::WaitFailures(int n, absl::Duration timeout) {
  return WaitCount(&failures_, n, timeout);
}

std::vector<double> BackoffLog::factors() {
  absl::MutexLock lock(&mu_);
  return factors_;
}

}  // namespace reconnect_example
