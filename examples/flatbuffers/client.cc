// A player of the position-update stream: sends --count PositionUpdates of
// entity --entity and waits until the server broadcast them all back.
//   ./bazelw run //examples/flatbuffers:client -- --address=127.0.0.1:18351
// From a file: --config=examples/flatbuffers/client.json (a ClientConfig;
// flags given explicitly override it).
#include <cstdio>

#include "absl/flags/flag.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/flatbuffers/game_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:18351", "game server address");
ABSL_FLAG(int, entity, 1, "this player's entity id");
ABSL_FLAG(int, count, 100, "position updates to send");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv,
      "flatbuffers game client: --address=host:port --entity=N --count=N "
      "[--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  const int count = absl::GetFlag(FLAGS_count);
  if (count <= 0) tao::examples::UsageError("--count must be positive");
  if (absl::GetFlag(FLAGS_entity) < 0) {
    tao::examples::UsageError("--entity must not be negative");
  }
  game::GameClient player(static_cast<uint32_t>(absl::GetFlag(FLAGS_entity)),
                          tao::examples::ClientOptionsOrExit(settings));
  absl::Status s = player.Connect(settings.address, absl::Seconds(10));
  if (s.ok()) s = player.SendUpdates(count);
  if (s.ok()) s = player.WaitForMoves(count, count, absl::Seconds(10));
  player.Stop();
  if (!s.ok()) {
    std::fprintf(stderr, "flatbuffers game client: %s\n", s.ToString().c_str());
    return 1;
  }
  const game::MoveStats stats = player.stats();
  std::printf("%d own moves and %d of other players, last tick %llu\n",
              stats.own, stats.others,
              static_cast<unsigned long long>(stats.last_tick));
  return 0;
}
