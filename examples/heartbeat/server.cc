// The heartbeat server: closes every peer that sends nothing for
// --heartbeat_timeout, and prints each Go tao heartbeat it receives.
//   ./bazelw run //examples/heartbeat:server -- --address=127.0.0.1:12347
// From a file: --config=examples/heartbeat/server.json (a ServerConfig;
// flags given explicitly override it).
#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/registry_server_main.h"
#include "examples/common/timeline.h"
#include "examples/heartbeat/heartbeat_watch.h"

ABSL_FLAG(absl::Duration, heartbeat_timeout, absl::Seconds(15),
          "close a peer silent for this long");

int main(int argc, char** argv) {
  tao::examples::Timeline timeline;
  heartbeat_example::HeartbeatWatch watch(&timeline);
  tao::examples::RegistryServerHooks hooks;
  hooks.adjust_settings = [](tao::ServerSettings& settings) {
    tao::examples::ApplyFlag(FLAGS_heartbeat_timeout,
                             &settings.options.heartbeat.timeout);
    if (settings.options.heartbeat.timeout <= absl::ZeroDuration()) {
      tao::examples::UsageError("--heartbeat_timeout must be positive");
    }
  };
  hooks.prepare = [&watch](tao::Server& server) { watch.Attach(server); };
  return tao::examples::RegistryServerMain(
      argc, argv, {.program = "heartbeat server", .address = "127.0.0.1:12347"},
      [&watch](tao::Registry* registry) { return watch.Register(registry); },
      hooks);
}
