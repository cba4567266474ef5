// The heartbeat client: connects and sends a Go tao heartbeat every
// --heartbeat_interval (0: never, to be the silent peer the server closes),
// then waits until the server closes the connection (or Ctrl-C).
//   ./bazelw run //examples/heartbeat:client -- --address=127.0.0.1:12347
// From a file: --config=examples/heartbeat/client.json (a ClientConfig;
// flags given explicitly override it).
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/timeline.h"
#include "tao/tao.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12347", "heartbeat server address");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(5),
          "time between heartbeats (0: send none)");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv,
      "heartbeat client: --address=host:port --heartbeat_interval=5s "
      "[--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::ApplyFlag(FLAGS_heartbeat_interval,
                           &settings.options.heartbeat.interval);
  tao::examples::Timeline timeline;
  absl::Notification closed;
  tao::Client client(tao::examples::ClientOptionsOrExit(settings), nullptr);
  client.OnClose([&](tao::Connection& c) {
    timeline.Say(
        absl::StrCat("closed by the server: ", c.close_reason().ToString()));
    closed.Notify();
  });
  absl::Status connecting = client.Connect(settings.address);
  if (connecting.ok()) connecting = client.WaitConnected(absl::Seconds(10));
  if (!connecting.ok()) {
    std::fprintf(stderr, "heartbeat client: %s\n",
                 connecting.ToString().c_str());
    return 1;
  }
  const absl::Duration interval = client.options().heartbeat.interval;
  timeline.Say(absl::StrCat(
      "connected to ", settings.address, "; ",
      interval > absl::ZeroDuration()
          ? absl::StrCat("a heartbeat every ", absl::FormatDuration(interval))
          : std::string("sending nothing"),
      " (Ctrl-C stops)"));
  closed.WaitForNotification();
  client.Stop();
  return 0;
}
