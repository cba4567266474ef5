// The time client: prints the server's ticks until it closes.
//   ./bazelw run //examples/timer:client -- --address=127.0.0.1:12346
// From a file: --config=examples/timer/client.json (a ClientConfig; flags
// given explicitly override it).
#include <cstdio>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/timer/time_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12346", "time server address");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv, "time client: --address=host:port [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  absl::StatusOr<int> ticks =
      timer_example::WatchTime(settings.address, absl::Hours(1),
                               tao::examples::ClientOptionsOrExit(settings));
  if (!ticks.ok()) {
    std::fprintf(stderr, "time client: %s\n",
                 ticks.status().ToString().c_str());
    return 1;
  }
  std::printf("server said goodbye after %d ticks\n", *ticks);
  return 0;
}
