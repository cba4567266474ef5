// GameClient: one player of the position-update stream (game.fbs). It
// connects, sends `count` PositionUpdates of its entity (walking a circle)
// and counts the EntityMoved broadcasts it receives, its own and others'.
//
//   game::GameClient player(/*entity=*/1);
//   TAO_RETURN_IF_ERROR(player.Connect("127.0.0.1:18351", timeout));
//   TAO_RETURN_IF_ERROR(player.SendUpdates(100));
//   TAO_RETURN_IF_ERROR(player.WaitForMoves(/*own=*/100, /*total=*/100, t));
//
// Thread safety: Connect, SendUpdates, WaitForMoves, Stop from one thread;
// stats() from any thread. The handlers run on the client's I/O loop.
#ifndef EXAMPLES_FLATBUFFERS_GAME_CLIENT_H_
#define EXAMPLES_FLATBUFFERS_GAME_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/message/client.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"

namespace game {

struct MoveStats {
  int own = 0;     // EntityMoved of this client's entity
  int others = 0;  // of other entities
  // Invariant: the ticks of received moves only increase (the server's
  // broadcast order); out_of_order counts violations (0 when correct).
  int out_of_order = 0;
  uint64_t last_tick = 0;
};

class GameClient {
 public:
  explicit GameClient(uint32_t entity,
                      const tao::ClientOptions& options = tao::ClientOptions());
  ~GameClient();
  GameClient(const GameClient&) = delete;
  GameClient& operator=(const GameClient&) = delete;

  absl::Status Connect(const std::string& address, absl::Duration timeout);
  // Sends updates seq 1..count.
  absl::Status SendUpdates(int count);
  // Waits until `own` moves of this entity and `total` in all arrived;
  // DEADLINE_EXCEEDED (with the counts) otherwise.
  absl::Status WaitForMoves(int own, int total, absl::Duration timeout);
  MoveStats stats() const;
  void Stop();

 private:
  const uint32_t entity_;
  tao::Registry registry_;  // outlives client_
  std::unique_ptr<tao::Client> client_;
  mutable absl::Mutex mu_;
  MoveStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace game

#endif  // EXAMPLES_FLATBUFFERS_GAME_CLIENT_H_
