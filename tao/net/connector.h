// Connector: establishes one outgoing stream connection without blocking,
// retrying with exponential backoff and jitter under a ReconnectPolicy.
//
// Each attempt is bounded by a connect timeout. A failed attempt is reported
// with whether another will follow; nothing here is ever fatal. A socket
// that connected to itself (possible on loopback when the target port is in
// the ephemeral range and closed) counts as a failed attempt.
//
// Thread safety: Start, Stop and Retry are safe from any thread; callbacks
// run on the loop thread. After Stop() returns on the loop thread no
// callback runs; from other threads, at most one already running may finish.
#ifndef TAO_NET_CONNECTOR_H_
#define TAO_NET_CONNECTOR_H_

#include <functional>
#include <memory>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tao/net/channel.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class EventLoop;

class Connector final : public std::enable_shared_from_this<Connector>,
                        private Channel::Handler {
 public:
  using ConnectedCallback = std::function<void(Socket socket)>;
  using FailedCallback =
      std::function<void(const absl::Status& error, bool will_retry)>;

  Connector(EventLoop* loop, InetAddress address,
            absl::Duration connect_timeout, ReconnectPolicy policy);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  void Start(ConnectedCallback on_connected, FailedCallback on_failed);
  void Stop();
  // Connects again after the policy's backoff (e.g. a lost connection).
  // The attempt counter grows with every failure and Retry, until
  // ResetBackoff.
  void Retry();
  // The last connection was useful: the next Retry waits initial_backoff.
  void ResetBackoff();

  const InetAddress& address() const { return address_; }

  // The delay before retry number `attempt` (1-based) without jitter.
  static absl::Duration BackoffFor(const ReconnectPolicy& policy, int attempt);

 private:
  void Attempt();
  // Channel::Handler: a connect finishing, failing or hung up alike.
  Channel::Handler* AsHandler() { return this; }  // the base is private
  void OnWritable() override { HandleWritable(); }
  void OnError() override { HandleWritable(); }
  void OnHangUp() override { HandleWritable(); }
  void HandleWritable();
  void Fail(absl::Status error);
  void ScheduleRetry();
  // Stops watching the pending socket: its channel and connect timeout.
  void StopWatching();
  // StopWatching, then closes the socket.
  void Cleanup();

  EventLoop* const loop_;
  const InetAddress address_;
  const absl::Duration connect_timeout_;
  const ReconnectPolicy policy_;

  // Loop thread only.
  ConnectedCallback on_connected_;
  FailedCallback on_failed_;
  Socket socket_;
  std::unique_ptr<Channel> channel_;
  TimerId timeout_timer_;
  TimerId retry_timer_;
  int failures_ = 0;  // consecutive
  bool stopped_ = false;
  absl::BitGen random_;
};

}  // namespace tao

#endif  // TAO_NET_CONNECTOR_H_
