// The relay example's front server: accepts clients (TLV, Go tao's
// framing) and relays their requests over an envelope-codec link to the
// back server at --backend; the answers come back the same way.
//   ./bazelw run //examples/relay:front_server -- --backend=127.0.0.1:12350
// From a file: --config=examples/relay/front_server.json (a ServerConfig;
// flags given explicitly override it).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "examples/relay/backend.h"
#include "examples/relay/relay.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12349", "address to listen on");
ABSL_FLAG(std::string, backend, "127.0.0.1:12350", "the back server");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(
      argc, argv,
      "relay front server: --address=host:port --backend=host:port "
      "[--config=front_server.json]");
  tao::ServerSettings settings = tao::examples::ServerSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::CheckAddressFlag("address", settings.address);
  tao::examples::CheckAddressFlag("backend", absl::GetFlag(FLAGS_backend));
  const tao::ServerOptions options =
      tao::examples::ServerOptionsOrExit(settings);
  tao::ClientOptions upstream;
  upstream.reconnect.enabled = true;  // outlives back server restarts
  tao::Registry registry;
  relay::Relay link(upstream, relay::AnswerTypes());
  TAO_CHECK(link.RegisterRequests(&registry, relay::RequestTypes()).ok());
  tao::Server server(options, &registry);
  if (absl::Status up =
          link.Connect(absl::GetFlag(FLAGS_backend), absl::Seconds(10));
      !up.ok()) {
    std::fprintf(stderr, "relay front server: backend: %s\n",
                 up.ToString().c_str());
    return 1;
  }
  const int status = tao::examples::ServeUntilSignal(
      "relay front server", server, settings, shutdown);
  link.Stop();  // before `server` goes: answers are sent through it
  return status;
}
