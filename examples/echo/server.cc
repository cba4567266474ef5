// The echo server (Go tao's examples/echo protocol: type 1, raw text).
//   ./bazelw run //examples/echo:server -- --address=127.0.0.1:12345
#include "examples/common/registry_server_main.h"
#include "examples/echo/echo_service.h"

int main(int argc, char** argv) {
  return tao::examples::RegistryServerMain(
      argc, argv, {.program = "echo server", .address = "127.0.0.1:12345"},
      echo::RegisterEchoServer);
}
