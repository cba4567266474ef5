// The README's server as a complete program: a chat room that broadcasts
// every ChatMessage to every connection (the sender included). The lines
// between the readme-snippet markers are the ones the README shows.
//   ./bazelw run //examples/readme:readme_server -- --address=127.0.0.1:12345
// It prints "listening on ADDRESS" once serving, and stops gracefully on
// Ctrl-C / SIGTERM (readme_server_test drives it that way).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "examples/chat/chat.pb.h"
#include "examples/common/flags.h"
#include "examples/common/shutdown_signal.h"
#include "tao/tao.h"

ABSL_FLAG(std::string, address, "0.0.0.0:12345", "address to listen on");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(argc, argv, "readme server: --address=host:port");
  tao::examples::CheckAddressFlag("address", absl::GetFlag(FLAGS_address));
  const std::string address = absl::GetFlag(FLAGS_address);

  // [readme-snippet-begin]
  tao::Registry registry;
  absl::Status status = registry.Register<chat::ChatMessage>(
      [](tao::Context& ctx, const chat::ChatMessage& msg) {
        (void)ctx.endpoint().Broadcast(msg);  // encoded once, shared by all
      });
  tao::ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 4;  // 0: handlers inline on the I/O loop
  options.heartbeat.timeout = absl::Seconds(15);
  tao::Server server(options, &registry);
  server.OnConnect([](tao::Connection&) { return true; });  // false refuses
  if (status.ok()) status = server.Listen(address);  // IPv4, [IPv6], unix:/path
  if (status.ok()) status = server.Start();  // or Run(): Start(), then Join()
  // [readme-snippet-end]

  if (!status.ok()) {
    std::fprintf(stderr, "readme server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on %s\n", server.listen_address().ToString().c_str());
  std::fflush(stdout);
  shutdown.Wait();
  server.Stop(absl::Seconds(2));  // answer what was read, flush, close
  server.Join();
  return 0;
}
