// The chat server: every line a client says is broadcast to all clients.
//   ./bazelw run //examples/chat:server -- --address=127.0.0.1:12345
// Over mutual TLS: add --tls_cert=server.pem --tls_key=server.key
// --tls_ca=ca.pem (make throw-away ones: //tao/tls:make_test_certs).
// From a file: --config=examples/chat/server.json (a ServerConfig; flags
// given explicitly override it).
#include "absl/flags/flag.h"
#include "examples/chat/chat_server.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "examples/common/tls_flags.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345", "address to listen on");
ABSL_FLAG(int, io_threads, -1, "I/O loops (-1: one per core)");
ABSL_FLAG(int, handler_threads, -1,
          "handler workers (0: inline on the I/O loops, -1: one per core)");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(
      argc, argv, "chat server: --address=host:port [--config=server.json]");
  tao::ServerSettings settings = tao::examples::ServerSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::CheckAddressFlag("address", settings.address);
  tao::examples::ApplyFlag(FLAGS_io_threads, &settings.options.io_threads);
  tao::examples::ApplyFlag(FLAGS_handler_threads,
                           &settings.options.handler_threads);
  tao::examples::ApplyTlsFlags(tao::examples::TlsRole::kServer, &settings.tls);
  chat::ChatServer chat(tao::examples::ServerOptionsOrExit(settings));
  return tao::examples::ServeUntilSignal("chat server", chat.server(), settings,
                                         shutdown);
}
