// BackoffLog: shows a reconnecting tao::Client's life on a Timeline: each
// connection, each loss, each failed attempt with the retry delay that the
// ReconnectPolicy schedules next (nominal, and the jitter range around it),
// and, at the next failure, the delay actually waited and its jitter factor
// (waited / nominal, within [1 - jitter, 1 + jitter] plus timer slack).
//
// The delays follow ReconnectPolicy (tao/net/options.h): the n-th retry
// since the last useful connection was lost (or since Connect) waits
// min(initial_backoff * multiplier^(n-1), max_backoff), times a random
// factor in [1 - jitter, 1 + jitter]. A connection lost before it was
// useful (no byte received, up less than healthy_after) counts as one more
// failed attempt, not as a fresh start.
//
//   BackoffLog log(options.reconnect, &timeline);
//   tao::Client client(options, &registry);
//   log.Attach(client);              // before Connect
//   log.WaitFailures(3, timeout);
//
// Thread safety: Attach before the client's Connect; the callbacks run on
// the client's loop; Wait* and factors() from any thread. The log and the
// timeline must outlive the client.
#ifndef EXAMPLES_RECONNECT_BACKOFF_LOG_H_
#define EXAMPLES_RECONNECT_BACKOFF_LOG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "examples/common/timeline.h"
#include "tao/tao.h"

namespace reconnect_example {

class BackoffLog {
 public:
  BackoffLog(const tao::ReconnectPolicy& policy,
             tao::examples::Timeline* timeline)
      : policy_(policy), timeline_(timeline) {}
  BackoffLog(const BackoffLog&) = delete;
  BackoffLog& operator=(const BackoffLog&) = delete;

  // The policy's delay before retry number `n` (1-based), without jitter.
  static absl::Duration Nominal(const tao::ReconnectPolicy& policy, int n);

  // OnConnect, OnClose and OnConnectFailed of `client`.
  void Attach(tao::Client& client);

  // The client is being stopped: its last close is not followed by a retry.
  void Stopping();

  // Whether, within `timeout`, `n` connections came up / `n` attempts
  // failed since the log was attached.
  bool WaitConnects(int n, absl::Duration timeout);
  bool WaitFailures(int n, absl::Duration timeout);
  // The jitter factor of every delay measured so far.
  std::vector<double> factors();

 private:
  void Connected(tao::Connection& c);
  void Lost(tao::Connection& c);
  void Failed(const absl::Status& error, bool will_retry);
  // Ends the wait for a scheduled retry, if any: " after waiting ...", its
  // factor recorded. REQUIRES: mu_ held.
  std::string EndWait() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schedules the note of retry number retries_ + 1. REQUIRES: mu_ held.
  void ExpectRetry(const char* after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WaitCount(const int* count, int n, absl::Duration timeout);

  const tao::ReconnectPolicy policy_;        // constant after construction
  tao::examples::Timeline* const timeline_;  // constant after construction
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  // Retries scheduled since the last useful connection (or the start).
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time connected_at_ ABSL_GUARDED_BY(mu_);  // of the last connection
  // The retry now waiting: its nominal delay and when the wait began.
  // Invariant: set exactly while a retry is scheduled.
  std::optional<absl::Duration> waiting_ ABSL_GUARDED_BY(mu_);
  absl::Time waiting_since_ ABSL_GUARDED_BY(mu_);
  std::vector<double> factors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reconnect_example

#endif  // EXAMPLES_RECONNECT_BACKOFF_LOG_H_
