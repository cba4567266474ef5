// The timer demo: a time server that ticks every second for 3 ticks and a
// client printing them; exits 0 when all 3 arrived before the server's FIN.
//   ./bazelw run //examples/timer:demo
#include <cstdio>

#include "examples/timer/time_client.h"
#include "examples/timer/time_service.h"

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  constexpr int kTicks = 3;
  tao::ServerOptions options;
  options.io_threads = 1;
  std::unique_ptr<tao::Server> server =
      timer_example::NewTimeServer(options, absl::Seconds(1), kTicks);
  TAO_CHECK(server->Listen("127.0.0.1:0").ok());
  TAO_CHECK(server->Start().ok());
  absl::StatusOr<int> ticks = timer_example::WatchTime(
      server->listen_address().ToString(), absl::Seconds(30));
  server->Stop(absl::Seconds(1));
  server->Join();
  if (!ticks.ok() || *ticks != kTicks) {
    std::fprintf(
        stderr, "timer demo failed: %s\n",
        ticks.ok() ? "wrong tick count" : ticks.status().ToString().c_str());
    return 1;
  }
  std::printf("timer demo: %d ticks, one per second, then a clean close\n",
              *ticks);
  return 0;
}
