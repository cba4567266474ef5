// The echo server (Go tao's examples/echo protocol: type 1, raw text).
//   ./bazelw run //examples/echo:server -- --address=127.0.0.1:12345
#include "absl/flags/flag.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "examples/echo/echo_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345", "address to listen on");
ABSL_FLAG(int, io_threads, -1, "I/O loops (-1: one per core)");
ABSL_FLAG(int, handler_threads, 0,
          "handler workers (0: inline on the I/O loops, -1: one per core)");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(argc, argv, "echo server: --address=host:port");
  tao::examples::CheckAddressFlag("address", absl::GetFlag(FLAGS_address));
  tao::Registry registry;
  TAO_CHECK(echo::RegisterEchoServer(&registry).ok());
  tao::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  tao::Server server(options, &registry);
  return tao::examples::ServeUntilSignal(
      "echo server", server, absl::GetFlag(FLAGS_address), shutdown);
}
