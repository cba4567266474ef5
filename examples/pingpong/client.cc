// The pingpong client: sends --count pings one after another and prints the
// round-trip times (works against Go tao's pingpong server too).
//   ./bazelw run //examples/pingpong:client -- --address=127.0.0.1:18341
// From a file: --config=examples/pingpong/client.json (a ClientConfig;
// flags given explicitly override it).
#include <cstdio>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/pingpong/pingpong_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:18341", "pingpong server address");
ABSL_FLAG(int, count, 1000, "pings to send");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv,
      "pingpong client: --address=host:port --count=N [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  if (absl::GetFlag(FLAGS_count) <= 0) {
    tao::examples::UsageError("--count must be positive");
  }
  absl::StatusOr<pingpong::PingPongResult> result = pingpong::RunPingPong(
      settings.address, absl::GetFlag(FLAGS_count), absl::Seconds(10),
      tao::examples::ClientOptionsOrExit(settings));
  if (!result.ok()) {
    std::fprintf(stderr, "pingpong client: %s\n",
                 result.status().ToString().c_str());
    return 1;
  }
  std::printf("%d pongs in %s: rtt p50 %s, p99 %s, max %s\n", result->pongs,
              absl::FormatDuration(result->total).c_str(),
              absl::FormatDuration(result->p50).c_str(),
              absl::FormatDuration(result->p99).c_str(),
              absl::FormatDuration(result->max).c_str());
  return 0;
}
