// The echo client: each line typed is sent as a type-1 frame and the echo is
// printed (works against Go tao's echo server too).
//   ./bazelw run //examples/echo:client -- --address=127.0.0.1:12345
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/flags.h"
#include "examples/echo/echo_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345", "echo server address");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(argc, argv, "echo client: --address=host:port");
  tao::examples::CheckAddressFlag("address", absl::GetFlag(FLAGS_address));
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
  tao::ClientOptions options;
  options.handler_threads = 0;
  tao::Client client(options, &registry);
  absl::Status connecting = client.Connect(absl::GetFlag(FLAGS_address));
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
