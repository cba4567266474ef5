// The time server: shows each client the time every --interval, then says
// goodbye after --ticks.
//   ./bazelw run //examples/timer:server -- --address=127.0.0.1:12346
// From a file: --config=examples/timer/server.json (a ServerConfig; flags
// given explicitly override it).
#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "examples/timer/time_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12346", "address to listen on");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1), "time between ticks");
ABSL_FLAG(int, ticks, 10, "ticks per client before closing");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(
      argc, argv,
      "time server: --address=host:port --ticks=N [--config=server.json]");
  tao::ServerSettings settings = tao::examples::ServerSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::CheckAddressFlag("address", settings.address);
  if (absl::GetFlag(FLAGS_interval) <= absl::ZeroDuration()) {
    tao::examples::UsageError("--interval must be positive");
  }
  if (absl::GetFlag(FLAGS_ticks) <= 0) {
    tao::examples::UsageError("--ticks must be positive");
  }
  std::unique_ptr<tao::Server> server = timer_example::NewTimeServer(
      tao::examples::ServerOptionsOrExit(settings),
      absl::GetFlag(FLAGS_interval), absl::GetFlag(FLAGS_ticks));
  return tao::examples::ServeUntilSignal("time server", *server, settings,
                                         shutdown);
}
