// RedisConnection: one asynchronous connection to a Redis server (hiredis's
// async API) on a tao EventLoop, kept up: a connect that fails, times out or
// a connection that drops is retried after an exponential backoff with
// jitter, and `on_connected` runs after every (re)connect so the owner can
// subscribe again. No thread of its own, no blocking call on the loop (the
// host must be a numeric address: hiredis would resolve a name with a
// blocking getaddrinfo).
//
//   RedisConnection redis(loop, options, {.on_connected = [&] {
//     (void)redis.Command({"SUBSCRIBE", "news"}, &subscriber);
//   }});
//   redis.Start();                     // on the loop thread
//   ...
//   redis.Stop();                      // on the loop thread; or destroy
//
// Replies go to a ReplyHandler given with each command, once per reply, on
// the loop thread; with nullptr when the connection ends before the reply
// (every pending command, and every subscription, gets that once). A
// subscribing command's handler gets every message of its subscription.
//
// Thread safety: construction on any thread; everything else on the loop
// thread (destruction too, unless stopped already), and never from inside this
// connection's own callbacks (on_connected, on_disconnected, a ReplyHandler)
// except Command, which on_connected and ReplyHandlers may call. connected(),
// connects() and reconnects() may be read from any thread.
#ifndef TAO_CLUSTER_REDIS_CONNECTION_H_
#define TAO_CLUSTER_REDIS_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/net/event_loop.h"
#include "tao/timer/timer_queue.h"

struct redisAsyncContext;
struct redisReply;

namespace tao {

struct RedisConnectionOptions {
  // A numeric IPv4 or IPv6 address (no brackets) and a port.
  std::string host = "127.0.0.1";
  int port = 6379;
  // A connect not established by then is abandoned and retried.
  absl::Duration connect_timeout = absl::Seconds(2);
  // Retry n (1-based) waits min(initial_backoff * 2^(n-1), max_backoff),
  // scaled by a random factor in [1 - jitter, 1 + jitter]; a successful
  // connect starts over from initial_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  double jitter = 0.2;
};

// "host:port" or "[v6]:port" to a numeric host and a port; INVALID_ARGUMENT
// for anything else (host names included, see above).
absl::Status ParseRedisAddress(absl::string_view address,
                               RedisConnectionOptions* options);

class RedisConnection {
 public:
  class ReplyHandler {
   public:
    // `reply` is hiredis's, valid during the call; nullptr: none will come.
    virtual void OnReply(const redisReply* reply) = 0;

   protected:
    ~ReplyHandler() = default;
  };
  struct Callbacks {
    // After each connect; may issue commands.
    std::function<void()> on_connected;
    // After an established connection ended (not after Stop); the pending
    // commands' handlers have had their nullptr. No commands here.
    std::function<void(const absl::Status&)> on_disconnected;
  };

  RedisConnection(EventLoop* loop, RedisConnectionOptions options,
                  Callbacks callbacks);
  // Stop().
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects (and keeps reconnecting until Stop).
  void Start();
  // Frees the connection (pending handlers get nullptr now) and cancels
  // every retry; no callback runs afterwards. Idempotent.
  void Stop();

  // Queues a command; `handler` must outlive this connection's context
  // (until Stop, or until it got nullptr). UNAVAILABLE when not connected.
  absl::Status Command(std::initializer_list<absl::string_view> args,
                       ReplyHandler* handler);

  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // Connections established, and those among them after the first.
  uint64_t connects() const {
    return connects_.load(std::memory_order_relaxed);
  }
  uint64_t reconnects() const {
    const uint64_t n = connects();
    return n == 0 ? 0 : n - 1;
  }
  // Connects begun (the first and every retry).
  uint64_t attempts() const {
    return attempts_.load(std::memory_order_relaxed);
  }
  // The delay before retry `attempt` (1-based), without jitter.
  static absl::Duration BackoffFor(const RedisConnectionOptions& options,
                                   int attempt);

 private:
  static void ConnectThunk(const redisAsyncContext* ac, int status);
  static void DisconnectThunk(const redisAsyncContext* ac, int status);

  void Connect();
  void HandleConnect(const redisAsyncContext* ac, int status);
  void HandleDisconnect(const redisAsyncContext* ac, int status);
  void HandleConnectTimeout();
  void ScheduleRetry(const absl::Status& why);

  EventLoop* const loop_;
  const RedisConnectionOptions options_;
  const Callbacks callbacks_;
  absl::BitGen random_;

  // Loop thread only. ac_ is hiredis's (it frees it after the disconnect
  // or failed-connect callback, when ac_ is reset).
  redisAsyncContext* ac_ = nullptr;
  bool started_ = false;
  bool stopping_ = false;
  int failures_ = 0;         // since the last established connection
  TimerId connect_timer_{};  // valid while armed
  TimerId retry_timer_{};

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> attempts_{0};
};

}  // namespace tao

#endif  // TAO_CLUSTER_REDIS_CONNECTION_H_
