// The interactive rooms client: "/join ROOM", "/leave ROOM", and any other
// line is said in the room joined last; everything heard is printed.
//   ./bazelw run //examples/rooms:client -- --address=127.0.0.1:12347
//   --name=ann
// From a file: --config=examples/rooms/client.json.
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/rooms/rooms_client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12347", "rooms server address");
ABSL_FLAG(std::string, name, "guest", "your name");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv,
      "rooms client: --address=host:port --name=NAME [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  if (absl::GetFlag(FLAGS_name).empty()) {
    tao::examples::UsageError("--name must not be empty");
  }
  rooms::RoomsClient client(
      absl::GetFlag(FLAGS_name),
      [](const rooms::RoomMessage& m) {
        std::printf("[%s] %s: %s\n", m.room().c_str(), m.from().c_str(),
                    m.text().c_str());
        std::fflush(stdout);
      },
      tao::examples::ClientOptionsOrExit(settings));
  absl::Status status = client.Connect(settings.address);
  std::string room;
  std::string line;
  while (status.ok() && std::getline(std::cin, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "/join ")) {
      room = std::string(rest);
      status = client.Join(room);
    } else if (absl::ConsumePrefix(&rest, "/leave ")) {
      status = client.Leave(rest);
    } else if (!line.empty() && !room.empty()) {
      status = client.Say(room, line);
    } else if (!line.empty()) {
      std::printf("(/join a room first)\n");
    }
  }
  if (!status.ok()) {
    std::fprintf(stderr, "rooms client: %s\n", status.ToString().c_str());
    return 1;
  }
  client.Disconnect();
  return 0;
}
