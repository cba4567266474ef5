// The echo client: each line typed is sent as a type-1 frame and the echo is
// printed (works against Go tao's echo server too).
//   ./bazelw run //examples/echo:client -- --address=127.0.0.1:12345
// From a file: --config=examples/echo/client.json (a ClientConfig; flags
// given explicitly override it).
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/echo/echo_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345", "echo server address");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv, "echo client: --address=host:port [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  const tao::ClientOptions options =
      tao::examples::ClientOptionsOrExit(settings);
  tao::Registry registry;
  TAO_CHECK(registry
                .RegisterRaw(echo::kEchoMessage,
                             [](tao::Context&, absl::string_view payload) {
                               std::printf("echo: %.*s\n",
                                           static_cast<int>(payload.size()),
                                           payload.data());
                               std::fflush(stdout);
                             })
                .ok());
  tao::Client client(options, &registry);
  absl::Status connecting = client.Connect(settings.address);
  if (connecting.ok()) connecting = client.WaitConnected(absl::Seconds(10));
  if (!connecting.ok()) {
    std::fprintf(stderr, "echo client: %s\n", connecting.ToString().c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    absl::Status sent = client.SendRaw(echo::kEchoMessage, line);
    if (!sent.ok()) {
      std::fprintf(stderr, "echo client: %s\n", sent.ToString().c_str());
      return 1;
    }
  }
  client.Stop();
  return 0;
}
