// The FlatBuffers demo: a game server on loopback and two players that each
// stream 200 position updates; every player must see all 400 moves, in the
// server's tick order. Then a peer sends a corrupt table, which the server
// rejects (verification fails: a bad payload, that connection closed).
// Exits 0 only when all of that happened.
//   ./bazelw run //examples/flatbuffers:demo
#include <cstdio>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "examples/flatbuffers/game_client.h"
#include "examples/flatbuffers/game_service.h"
#include "examples/flatbuffers/game_tao.h"
#include "tao/tao.h"

namespace {

constexpr int kPlayers = 2;
constexpr int kUpdates = 200;
const absl::Duration kTimeout = absl::Seconds(10);

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "flatbuffers demo failed: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kError);
  tao::Registry registry;
  TAO_CHECK(game::RegisterGameServer(&registry).ok());
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  auto server = std::make_unique<tao::Server>(options, &registry);
  absl::Mutex mu;
  int connected = 0;
  int closed = 0;
  server->OnConnect([&](tao::Connection&) {
    absl::MutexLock lock(&mu);
    ++connected;
    return true;
  });
  server->OnClose([&](tao::Connection&) {
    absl::MutexLock lock(&mu);
    ++closed;
  });
  TAO_CHECK(server->Listen("127.0.0.1:0").ok());
  TAO_CHECK(server->Start().ok());
  const std::string address = server->listen_address().ToString();
  auto wait = [&](const int& count, int n, const char* what) {
    absl::MutexLock lock(&mu);
    auto reached = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return count >= n; };
    return mu.AwaitWithTimeout(absl::Condition(&reached), kTimeout)
               ? absl::OkStatus()
               : absl::DeadlineExceededError(what);
  };

  // Everyone is connected before anyone moves, so each sees every move.
  game::GameClient one(1), two(2);
  for (game::GameClient* player : {&one, &two}) {
    if (absl::Status s = player->Connect(address, kTimeout); !s.ok()) {
      return Fail(s);
    }
  }
  if (absl::Status s = wait(connected, kPlayers, "players connecting");
      !s.ok()) {
    return Fail(s);
  }
  const absl::Time start = absl::Now();
  for (game::GameClient* player : {&one, &two}) {
    if (absl::Status s = player->SendUpdates(kUpdates); !s.ok()) return Fail(s);
  }
  for (game::GameClient* player : {&one, &two}) {
    absl::Status s =
        player->WaitForMoves(kUpdates, kPlayers * kUpdates, kTimeout);
    if (!s.ok()) return Fail(s);
    if (player->stats().out_of_order != 0) {
      return Fail(absl::InternalError("moves arrived out of tick order"));
    }
  }
  const absl::Duration elapsed = absl::Now() - start;

  // A corrupt PositionUpdate: its root offset points past the buffer.
  tao::Registry none;
  auto cheat = std::make_unique<tao::Client>(tao::ClientOptions(), &none);
  if (absl::Status s = cheat->Connect(address); !s.ok()) return Fail(s);
  if (absl::Status s = cheat->WaitConnected(kTimeout); !s.ok()) return Fail(s);
  const int32_t type = tao::FlatBufferTypeId<game::PositionUpdate>::value;
  if (absl::Status s = cheat->SendRaw(type, std::string("\xff\0\0\0xxxx", 8));
      !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = wait(closed, 1, "the corrupt peer's close"); !s.ok()) {
    return Fail(s);
  }
  const uint64_t bad = server->stats().bad_payloads;
  cheat->Stop();
  one.Stop();
  two.Stop();
  server->Stop(absl::Seconds(1));
  server->Join();
  if (bad != 1) {
    return Fail(absl::InternalError(
        absl::StrCat("expected 1 bad payload, the server counted ", bad)));
  }
  std::printf(
      "flatbuffers demo: %d players x %d updates, every move seen by every "
      "player in tick order in %s; a corrupt table was rejected and its "
      "connection closed\n",
      kPlayers, kUpdates, absl::FormatDuration(elapsed).c_str());
  return 0;
}
