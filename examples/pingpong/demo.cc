// The pingpong demo: a pingpong server on loopback and a client that plays
// 1000 rounds, printing the round-trip times; exits 0 when every ping got
// its pong.
//   ./bazelw run //examples/pingpong:demo
#include <cstdio>

#include "examples/pingpong/pingpong_client.h"
#include "examples/pingpong/pingpong_service.h"

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::Registry registry;
  TAO_CHECK(pingpong::RegisterPingPongServer(&registry).ok());
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  tao::Server server(options, &registry);
  TAO_CHECK(server.Listen("127.0.0.1:0").ok());
  TAO_CHECK(server.Start().ok());
  constexpr int kRounds = 1000;
  absl::StatusOr<pingpong::PingPongResult> result = pingpong::RunPingPong(
      server.listen_address().ToString(), kRounds, absl::Seconds(10));
  server.Stop(absl::Seconds(1));
  server.Join();
  if (!result.ok()) {
    std::fprintf(stderr, "pingpong demo failed: %s\n",
                 result.status().ToString().c_str());
    return 1;
  }
  std::printf("pingpong demo: %d/%d pongs in %s; rtt p50 %s, p99 %s, max %s\n",
              result->pongs, kRounds,
              absl::FormatDuration(result->total).c_str(),
              absl::FormatDuration(result->p50).c_str(),
              absl::FormatDuration(result->p99).c_str(),
              absl::FormatDuration(result->max).c_str());
  return 0;
}
