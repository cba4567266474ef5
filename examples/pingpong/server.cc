// The pingpong server (Go tao's examples/pingpong: type 1; answers "pong").
//   ./bazelw run //examples/pingpong:server -- --address=127.0.0.1:18341
#include <cstdio>

#include "absl/flags/flag.h"
#include "examples/common/flags.h"
#include "examples/common/shutdown_signal.h"
#include "examples/pingpong/pingpong_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:18341", "address to listen on");
ABSL_FLAG(int, io_threads, 0, "I/O loops (0: one per core)");
ABSL_FLAG(int, handler_threads, 0,
          "handler workers (0: inline on the I/O loops, -1: one per core)");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(argc, argv, "pingpong server: --address=host:port");
  tao::examples::CheckAddressFlag("address", absl::GetFlag(FLAGS_address));
  tao::Registry registry;
  TAO_CHECK(pingpong::RegisterPingPongServer(&registry).ok());
  tao::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  tao::Server server(options, &registry);
  absl::Status started = server.Listen(absl::GetFlag(FLAGS_address));
  if (started.ok()) started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "pingpong server: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("pingpong server listening on %s (Ctrl-C stops)\n",
              server.listen_address().ToString().c_str());
  std::fflush(stdout);
  shutdown.Wait();
  server.Stop(absl::Seconds(2));
  server.Join();
  return 0;
}
