#include "examples/pingpong/pingpong_client.h"

#include <algorithm>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "examples/pingpong/pingpong_service.h"

namespace pingpong {

absl::StatusOr<PingPongResult> RunPingPong(const std::string& address,
                                           int count, absl::Duration timeout,
                                           const tao::ClientOptions& options) {
  absl::Mutex mu;
  int pongs = 0;
  tao::Registry registry;
  TAO_RETURN_IF_ERROR(registry.RegisterRaw(
      kPingPongMessage, [&](tao::Context&, absl::string_view payload) {
        if (payload != "pong") return;
        absl::MutexLock lock(&mu);
        ++pongs;
      }));
  tao::Client client(options, &registry);
  TAO_RETURN_IF_ERROR(client.Connect(address));
  TAO_RETURN_IF_ERROR(client.WaitConnected(timeout));

  std::vector<absl::Duration> rtts;
  rtts.reserve(count);
  const absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    const absl::Time sent = absl::Now();
    TAO_RETURN_IF_ERROR(client.SendRaw(kPingPongMessage, "ping"));
    absl::MutexLock lock(&mu);
    auto answered = [&]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pongs > i; };
    if (!mu.AwaitWithTimeout(absl::Condition(&answered), timeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("no pong for ping ", i + 1, " within ",
                       absl::FormatDuration(timeout)));
    }
    rtts.push_back(absl::Now() - sent);
  }
  PingPongResult result;
  result.total = absl::Now() - start;
  client.Stop();
  std::sort(rtts.begin(), rtts.end());
  result.pongs = count;
  if (!rtts.empty()) {
    result.p50 = rtts[rtts.size() / 2];
    result.p99 = rtts[std::min(rtts.size() - 1, rtts.size() * 99 / 100)];
    result.max = rtts.back();
  }
  return result;
}

}  // namespace pingpong
