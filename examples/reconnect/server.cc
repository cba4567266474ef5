// The reconnect example's server: answers each greeting, naming itself.
// Stop it and start it again while a client runs: the client reconnects.
//   ./bazelw run //examples/reconnect:server -- --address=127.0.0.1:12348
// From a file: --config=examples/reconnect/server.json (a ServerConfig;
// flags given explicitly override it).
#include <string>

#include "absl/flags/flag.h"
#include "examples/common/registry_server_main.h"
#include "examples/reconnect/greeter.h"

ABSL_FLAG(std::string, name, "server", "how the server signs its answers");

int main(int argc, char** argv) {
  return tao::examples::RegistryServerMain(
      argc, argv, {.program = "reconnect server", .address = "127.0.0.1:12348"},
      [](tao::Registry* registry) {
        return reconnect_example::RegisterGreeter(registry,
                                                  absl::GetFlag(FLAGS_name));
      });
}
