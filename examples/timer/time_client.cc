#include "examples/timer/time_client.h"

#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "examples/timer/time_service.h"

namespace timer_example {

absl::StatusOr<int> WatchTime(const std::string& address,
                              absl::Duration timeout,
                              const tao::ClientOptions& options) {
  absl::Mutex mu;
  int ticks = 0;
  bool closed = false;
  tao::Registry registry;
  TAO_RETURN_IF_ERROR(registry.RegisterRaw(
      kTimeMessage, [&](tao::Context&, absl::string_view now) {
        absl::MutexLock lock(&mu);
        ++ticks;
        std::printf("tick %d: %.*s\n", ticks, static_cast<int>(now.size()),
                    now.data());
        std::fflush(stdout);
      }));
  tao::Client client(options, &registry);
  client.OnClose([&](tao::Connection&) {
    absl::MutexLock lock(&mu);
    closed = true;
  });
  TAO_RETURN_IF_ERROR(client.Connect(address));
  TAO_RETURN_IF_ERROR(client.WaitConnected(timeout));
  absl::MutexLock lock(&mu);
  if (!mu.AwaitWithTimeout(absl::Condition(&closed), timeout)) {
    return absl::DeadlineExceededError("the time server did not finish");
  }
  return ticks;
}

}  // namespace timer_example
