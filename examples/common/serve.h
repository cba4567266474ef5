// The tail of every example server's main(): listen (and serve /metrics
// and /healthz at --metrics_address or the config's metrics_address),
// start, print where, wait for Ctrl-C / SIGTERM, then stop gracefully.
#ifndef EXAMPLES_COMMON_SERVE_H_
#define EXAMPLES_COMMON_SERVE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "examples/common/shutdown_signal.h"
#include "tao/message/config.h"
#include "tao/message/server.h"

namespace tao::examples {

// Returns main()'s exit status: 0 after a signal-driven graceful stop, 1 when
// the server could not listen or start (the reason goes to stderr).
// Listens on settings.address; serves metrics at settings.metrics_address
// unless --metrics_address (given on the command line, or without
// --config) says otherwise.
// What runs beside the server (e.g. a cluster bridge): after_start once the
// server has started (an error stops it and fails), before_join once Stop
// has begun, before Join waits for the connections.
struct ServeHooks {
  std::function<absl::Status()> after_start;
  std::function<void()> before_join;
};
int ServeUntilSignal(absl::string_view program, Server& server,
                     const ServerSettings& settings, ShutdownSignal& shutdown,
                     const ServeHooks& hooks = {});

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_SERVE_H_
