// The relay client: each line typed goes to the front server, which relays
// it to the back server: "sum 1 2 3" as a SumRequest, anything else as an
// UpperRequest; the answers are printed.
//   ./bazelw run //examples/relay:client -- --address=127.0.0.1:12349
// From a file: --config=examples/relay/client.json (a ClientConfig; flags
// given explicitly override it).
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/relay/relay_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12349", "front server address");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv, "relay client: --address=host:port [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  relay::RelayClient client(tao::examples::ClientOptionsOrExit(settings),
                            [](const std::string& answer) {
                              std::printf("%s\n", answer.c_str());
                              std::fflush(stdout);
                            });
  if (absl::Status up = client.Connect(settings.address); !up.ok()) {
    std::fprintf(stderr, "relay client: %s\n", up.ToString().c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (absl::Status sent = client.Ask(line); !sent.ok()) {
      std::fprintf(stderr, "relay client: %s\n", sent.ToString().c_str());
      if (!absl::IsInvalidArgument(sent)) return 1;  // else: a typo
    }
  }
  if (!client.WaitAnswered(absl::Seconds(10))) {
    std::fprintf(stderr, "relay client: some requests were not answered\n");
    return 1;
  }
  client.Stop();
  return 0;
}
