#include "examples/common/serve.h"

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"

ABSL_FLAG(std::string, metrics_address, "",
          "serve GET /metrics (Prometheus text) and /healthz at host:port "
          "(port 0: any; empty: not at all)");

namespace tao::examples {

int ServeUntilSignal(absl::string_view program, Server& server,
                     const ServerSettings& settings, ShutdownSignal& shutdown,
                     const ServeHooks& hooks) {
  std::string metrics_address = settings.metrics_address;
  ApplyFlag(FLAGS_metrics_address, &metrics_address);
  absl::Status started = server.Listen(settings.address);
  if (started.ok() && !metrics_address.empty()) {
    started = server.ListenMetrics(metrics_address);
  }
  if (started.ok()) started = server.Start();
  if (started.ok() && hooks.after_start) {
    started = hooks.after_start();
    if (!started.ok()) {
      server.Stop(absl::ZeroDuration());
      if (hooks.before_join) hooks.before_join();
      server.Join();
    }
  }
  if (!started.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()),
                 program.data(), started.ToString().c_str());
    return 1;
  }
  std::printf("%.*s listening on %s (Ctrl-C stops)\n",
              static_cast<int>(program.size()), program.data(),
              server.listen_address().ToString().c_str());
  if (!metrics_address.empty()) {
    std::printf("%.*s metrics on http://%s/metrics\n",
                static_cast<int>(program.size()), program.data(),
                server.metrics_address().ToString().c_str());
  }
  std::fflush(stdout);
  shutdown.Wait();
  server.Stop(absl::Seconds(2));
  if (hooks.before_join) hooks.before_join();
  server.Join();
  return 0;
}

}  // namespace tao::examples
