// The chat server: every line a client says is broadcast to all clients.
//   ./bazelw run //examples/chat:server -- --address=127.0.0.1:12345
// Over mutual TLS: add --tls_cert=server.pem --tls_key=server.key
// --tls_ca=ca.pem (make throw-away ones: //tao/tls:make_test_certs).
#include "absl/flags/flag.h"
#include "examples/chat/chat_server.h"
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
  tao::examples::ParseFlags(argc, argv, "chat server: --address=host:port");
  tao::examples::CheckAddressFlag("address", absl::GetFlag(FLAGS_address));
  tao::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  absl::StatusOr<std::shared_ptr<const tao::TransportFactory>> tls =
      tao::examples::TlsFromFlags(tao::examples::TlsRole::kServer);
  if (!tls.ok()) tao::examples::UsageError(tls.status().ToString());
  options.tls = *tls;
  chat::ChatServer chat(options);
  return tao::examples::ServeUntilSignal(
      "chat server", chat.server(), absl::GetFlag(FLAGS_address), shutdown);
}
