#include "tao/cluster/redis_connection.h"

#include <arpa/inet.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tao/base/logging.h"
#include "tao/cluster/redis_loop_adapter.h"

namespace tao {
namespace {

void ReplyThunk(redisAsyncContext* /*ac*/, void* reply, void* privdata) {
  static_cast<RedisConnection::ReplyHandler*>(privdata)->OnReply(
      static_cast<const redisReply*>(reply));
}

absl::Status ContextError(const redisAsyncContext* ac, absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat(what, ": ", ac->errstr[0] != '\0' ? ac->errstr : "closed"));
}

}  // namespace

absl::Status ParseRedisAddress(absl::string_view address,
                               RedisConnectionOptions* options) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Redis address \"", address, "\" has no :port"));
  }
  absl::string_view host = address.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("Redis address \"", address, "\" has a bad port"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string host_string(host);
  unsigned char scratch[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host_string.c_str(), scratch) != 1 &&
      inet_pton(AF_INET6, host_string.c_str(), scratch) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Redis address \"", address,
        "\": the host must be a numeric IPv4 or IPv6 address (resolving a "
        "name would block the event loop)"));
  }
  options->host = host_string;
  options->port = port;
  return absl::OkStatus();
}

absl::Duration RedisConnection::BackoffFor(
    const RedisConnectionOptions& options, int attempt) {
  absl::Duration delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  return std::min(delay, options.max_backoff);
}

RedisConnection::RedisConnection(EventLoop* loop,
                                 RedisConnectionOptions options,
                                 Callbacks callbacks)
    : loop_(loop),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)) {}

RedisConnection::~RedisConnection() { Stop(); }

void RedisConnection::Start() {
  loop_->AssertInLoopThread();
  if (started_) return;
  started_ = true;
  Connect();
}

void RedisConnection::Stop() {
  if (stopping_) return;  // (a stopped connection may die on any thread)
  loop_->AssertInLoopThread();
  stopping_ = true;
  loop_->Cancel(connect_timer_);
  loop_->Cancel(retry_timer_);
  connect_timer_ = retry_timer_ = TimerId{};
  connected_.store(false, std::memory_order_release);
  if (ac_ != nullptr) {
    redisAsyncContext* ac = std::exchange(ac_, nullptr);
    // Runs the pending handlers with nullptr and (when connected) the
    // disconnect callback, which stopping_ silences; then frees `ac`.
    redisAsyncFree(ac);
  }
}

absl::Status RedisConnection::Command(
    std::initializer_list<absl::string_view> args, ReplyHandler* handler) {
  loop_->AssertInLoopThread();
  if (ac_ == nullptr || !connected()) {
    return absl::UnavailableError("not connected to Redis");
  }
  absl::InlinedVector<const char*, 4> argv;
  absl::InlinedVector<size_t, 4> argvlen;
  for (absl::string_view arg : args) {
    argv.push_back(arg.data());
    argvlen.push_back(arg.size());
  }
  if (redisAsyncCommandArgv(ac_, &ReplyThunk, handler,
                            static_cast<int>(argv.size()), argv.data(),
                            argvlen.data()) != REDIS_OK) {
    return absl::UnavailableError("the Redis connection is closing");
  }
  return absl::OkStatus();
}

void RedisConnection::Connect() {
  retry_timer_ = TimerId{};
  if (stopping_) return;
  attempts_.fetch_add(1, std::memory_order_relaxed);
  redisAsyncContext* ac =
      redisAsyncConnect(options_.host.c_str(), options_.port);
  if (ac == nullptr) {
    ScheduleRetry(absl::ResourceExhaustedError("cannot allocate a context"));
    return;
  }
  if (ac->err != 0) {
    const absl::Status why = ContextError(ac, "connect");
    redisAsyncFree(ac);
    ScheduleRetry(why);
    return;
  }
  if (absl::Status attached = AttachRedisToLoop(loop_, ac); !attached.ok()) {
    redisAsyncFree(ac);
    ScheduleRetry(attached);
    return;
  }
  ac->data = this;
  ac_ = ac;
  // The connect callback asks for write interest: the first writable event
  // tells whether the non-blocking connect succeeded.
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::DisconnectThunk);
  redisAsyncSetConnectCallback(ac, &RedisConnection::ConnectThunk);
  connect_timer_ = loop_->RunAfter(options_.connect_timeout,
                                   [this] { HandleConnectTimeout(); });
}

void RedisConnection::ConnectThunk(const redisAsyncContext* ac, int status) {
  static_cast<RedisConnection*>(ac->data)->HandleConnect(ac, status);
}

void RedisConnection::DisconnectThunk(const redisAsyncContext* ac, int status) {
  static_cast<RedisConnection*>(ac->data)->HandleDisconnect(ac, status);
}

void RedisConnection::HandleConnect(const redisAsyncContext* ac, int status) {
  loop_->Cancel(connect_timer_);
  connect_timer_ = TimerId{};
  if (status != REDIS_OK) {
    // hiredis frees the context when this returns.
    ac_ = nullptr;
    ScheduleRetry(ContextError(ac, "connect"));
    return;
  }
  failures_ = 0;
  connected_.store(true, std::memory_order_release);
  connects_.fetch_add(1, std::memory_order_relaxed);
  if (callbacks_.on_connected) callbacks_.on_connected();
}

void RedisConnection::HandleDisconnect(const redisAsyncContext* ac,
                                       int status) {
  // hiredis frees the context when this returns.
  ac_ = nullptr;
  connected_.store(false, std::memory_order_release);
  if (stopping_) return;
  const absl::Status why = status == REDIS_OK
                               ? absl::UnavailableError("Redis closed")
                               : ContextError(ac, "Redis connection lost");
  if (callbacks_.on_disconnected) callbacks_.on_disconnected(why);
  ScheduleRetry(why);
}

void RedisConnection::HandleConnectTimeout() {
  connect_timer_ = TimerId{};
  if (ac_ == nullptr || connected()) return;
  // Not connected: no disconnect callback, no pending commands.
  redisAsyncFree(std::exchange(ac_, nullptr));
  ScheduleRetry(absl::DeadlineExceededError(absl::StrCat(
      "connect to Redis at ", options_.host, ":", options_.port,
      " timed out after ", absl::FormatDuration(options_.connect_timeout))));
}

void RedisConnection::ScheduleRetry(const absl::Status& why) {
  if (stopping_) return;
  ++failures_;
  absl::Duration delay = BackoffFor(options_, failures_);
  if (options_.jitter > 0) {
    delay *=
        absl::Uniform(random_, 1.0 - options_.jitter, 1.0 + options_.jitter);
  }
  TAO_LOG_RATE_LIMITED(WARNING)
      << "Redis " << options_.host << ":" << options_.port << ": " << why
      << "; retry " << failures_ << " in " << absl::FormatDuration(delay);
  retry_timer_ = loop_->RunAfter(delay, [this] { Connect(); });
}

}  // namespace tao
