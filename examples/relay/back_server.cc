// The relay example's back server: answers SumRequest and UpperRequest,
// framed with the protobuf envelope codec (its clients are front servers).
//   ./bazelw run //examples/relay:back_server -- --address=127.0.0.1:12350
// From a file: --config=examples/relay/back_server.json (a ServerConfig;
// flags given explicitly override it; the codec is always the envelope).
#include "examples/common/registry_server_main.h"
#include "examples/relay/backend.h"

int main(int argc, char** argv) {
  tao::examples::RegistryServerHooks hooks;
  hooks.adjust_options = [](tao::ServerOptions& options) {
    options.codec = relay::LinkCodec();
  };
  return tao::examples::RegistryServerMain(
      argc, argv,
      {.program = "relay back server", .address = "127.0.0.1:12350"},
      relay::RegisterBackend, hooks);
}
