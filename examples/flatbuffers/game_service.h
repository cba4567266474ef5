// The server side of the position-update stream (game.fbs): every verified
// PositionUpdate becomes an EntityMoved, stamped with the server's tick (one
// counter for the whole server: ticks are unique, and with one I/O thread
// and inline handlers, as in server.json, they are also the broadcast
// order), sent to every connected player.
#ifndef EXAMPLES_FLATBUFFERS_GAME_SERVICE_H_
#define EXAMPLES_FLATBUFFERS_GAME_SERVICE_H_

#include "absl/status/status.h"
#include "tao/message/registry.h"

namespace game {

// Registers the PositionUpdate handler (safe with inline or pooled
// handlers: the tick is atomic, broadcasting is thread-safe).
absl::Status RegisterGameServer(tao::Registry* registry);

}  // namespace game

#endif  // EXAMPLES_FLATBUFFERS_GAME_SERVICE_H_
