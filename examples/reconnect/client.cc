// The reconnect client: sends each line typed as a greeting and prints the
// answer; when the server goes away it reconnects (exponential backoff with
// jitter, every delay printed) and goes on with the next line.
//   ./bazelw run //examples/reconnect:client -- --address=127.0.0.1:12348
// From a file: --config=examples/reconnect/client.json (a ClientConfig with
// "reconnect" on; flags given explicitly override it).
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/timeline.h"
#include "examples/reconnect/backoff_log.h"
#include "examples/reconnect/greeter.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12348", "server address");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv, "reconnect client: --address=host:port [--config=FILE]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  if (absl::GetFlag(FLAGS_config).empty()) {
    settings.options.reconnect.enabled = true;  // the point of the example
  }
  const tao::ClientOptions options =
      tao::examples::ClientOptionsOrExit(settings);
  tao::examples::Timeline timeline;
  tao::Registry registry;
  TAO_CHECK(registry
                .RegisterRaw(reconnect_example::kGreeting,
                             [&](tao::Context&, absl::string_view answer) {
                               timeline.Say(absl::StrCat("answer: ", answer));
                             })
                .ok());
  reconnect_example::BackoffLog log(options.reconnect, &timeline);
  tao::Client client(options, &registry);
  log.Attach(client);
  if (absl::Status s = client.Connect(settings.address); !s.ok()) {
    std::fprintf(stderr, "reconnect client: %s\n", s.ToString().c_str());
    return 1;
  }
  if (absl::Status up = client.WaitConnected(absl::Seconds(10)); !up.ok()) {
    timeline.Say(absl::StrCat("not connected yet: ", up.ToString()));
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    absl::Status sent = client.SendRaw(reconnect_example::kGreeting, line);
    if (!sent.ok()) timeline.Say(absl::StrCat("not sent: ", sent.ToString()));
  }
  log.Stopping();
  client.Stop();
  return 0;
}
