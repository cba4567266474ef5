// The pingpong server (Go tao's examples/pingpong: type 1; answers "pong").
//   ./bazelw run //examples/pingpong:server -- --address=127.0.0.1:18341
#include "examples/common/registry_server_main.h"
#include "examples/pingpong/pingpong_service.h"

int main(int argc, char** argv) {
  return tao::examples::RegistryServerMain(
      argc, argv, {.program = "pingpong server", .address = "127.0.0.1:18341"},
      pingpong::RegisterPingPongServer);
}
