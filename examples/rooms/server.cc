// The rooms server: a chat with rooms (connection groups).
//   ./bazelw run //examples/rooms:server -- --address=127.0.0.1:12347
// From a file: --config=examples/rooms/server.json (flags given explicitly
// override it); --metrics_address=127.0.0.1:0 serves /metrics.
#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "examples/rooms/rooms_server.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12347", "address to listen on");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(
      argc, argv, "rooms server: --address=host:port [--config=server.json]");
  tao::ServerSettings settings = tao::examples::ServerSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::CheckAddressFlag("address", settings.address);
  rooms::RoomsServer rooms(tao::examples::ServerOptionsOrExit(settings));
  return tao::examples::ServeUntilSignal("rooms server", rooms.server(),
                                         settings, shutdown);
}
