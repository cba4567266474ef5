// The position-update server (game.fbs): stamps every PositionUpdate with
// its tick and broadcasts it as an EntityMoved to every player.
//   ./bazelw run //examples/flatbuffers:server -- --address=127.0.0.1:18351
// From a file: --config=examples/flatbuffers/server.json (a ServerConfig;
// flags given explicitly override it).
#include "examples/common/registry_server_main.h"
#include "examples/flatbuffers/game_service.h"

int main(int argc, char** argv) {
  return tao::examples::RegistryServerMain(
      argc, argv,
      {.program = "flatbuffers game server", .address = "127.0.0.1:18351"},
      game::RegisterGameServer);
}
