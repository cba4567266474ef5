// The chat room as a program: chat_server [host:port] (default
// 127.0.0.1:12345); serves until killed.
#include <cstdio>

#include "chat_room.h"

int main(int argc, char** argv) {
  ChatRoom room;
  absl::Status status = room.Start(argc > 1 ? argv[1] : "127.0.0.1:12345");
  if (!status.ok()) {
    std::fprintf(stderr, "chat_server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("chat room on %s\n", room.address().c_str());
  std::fflush(stdout);
  room.Join();
  return 0;
}
