// The rooms demo: a server on loopback and three clients in two rooms.
// alice and bob meet in "lobby", carol waits in "games", bob joins her
// there and leaves the lobby. Each line reaches exactly the members of its
// room; the demo prints what each client heard and exits 0 only when every
// transcript is exactly the expected one (1 with the reason otherwise).
//   ./bazelw run //examples/rooms:demo
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "examples/common/transcripts.h"
#include "examples/rooms/rooms_client.h"
#include "examples/rooms/rooms_server.h"

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);

int Fail(const std::string& why) {
  std::fprintf(stderr, "rooms demo failed: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 2;
  rooms::RoomsServer server(options);
  absl::Status started = server.Start("127.0.0.1:0");
  if (!started.ok()) return Fail(started.ToString());
  const std::string address = server.address().ToString();
  std::printf("rooms server on %s\n", address.c_str());

  tao::examples::Transcripts transcripts;
  std::map<std::string, std::unique_ptr<rooms::RoomsClient>> clients;
  for (const char* name : {"alice", "bob", "carol"}) {
    auto client = std::make_unique<rooms::RoomsClient>(
        name, [&transcripts,
               listener = std::string(name)](const rooms::RoomMessage& m) {
          transcripts.Heard(listener, absl::StrCat("[", m.room(), "] ",
                                                   m.from(), ": ", m.text()));
        });
    absl::Status connected = client->Connect(address, kTimeout);
    if (!connected.ok()) return Fail(connected.ToString());
    clients[name] = std::move(client);
  }

  // Each step, then how many lines each listener has heard once it is done.
  struct Step {
    std::string what;
    std::function<absl::Status()> act;
    std::map<std::string, size_t> heard;
  };
  auto& alice = *clients["alice"];
  auto& bob = *clients["bob"];
  auto& carol = *clients["carol"];
  const std::vector<Step> steps = {
      {"alice joins lobby",
       [&] { return alice.Join("lobby"); },
       {{"alice", 1}}},
      {"bob joins lobby",
       [&] { return bob.Join("lobby"); },
       {{"alice", 2}, {"bob", 1}}},
      {"carol joins games",
       [&] { return carol.Join("games"); },
       {{"carol", 1}}},
      {"alice says hi in lobby",
       [&] { return alice.Say("lobby", "hi bob"); },
       {{"alice", 3}, {"bob", 2}}},
      {"carol says in games",
       [&] { return carol.Say("games", "anyone for chess?"); },
       {{"carol", 2}}},
      {"bob joins games",
       [&] { return bob.Join("games"); },
       {{"bob", 3}, {"carol", 3}}},
      {"carol says in games",
       [&] { return carol.Say("games", "bob, white or black?"); },
       {{"bob", 4}, {"carol", 4}}},
      {"bob leaves lobby", [&] { return bob.Leave("lobby"); }, {{"alice", 4}}},
      {"alice says in lobby (nobody else there)",
       [&] { return alice.Say("lobby", "bye then"); },
       {{"alice", 5}}},
  };
  for (const Step& step : steps) {
    std::printf("%s\n", step.what.c_str());
    absl::Status done = step.act();
    if (!done.ok()) return Fail(done.ToString());
    for (const auto& [name, count] : step.heard) {
      if (!transcripts.WaitForAll({name}, count, kTimeout)) {
        return Fail(absl::StrCat(name, " did not hear line ", count, " (",
                                 step.what, ")"));
      }
    }
  }

  const std::map<std::string, std::vector<std::string>> expected = {
      {"alice",
       {"[lobby] *: alice joined", "[lobby] *: bob joined",
        "[lobby] alice: hi bob", "[lobby] *: bob left",
        "[lobby] alice: bye then"}},
      {"bob",
       {"[lobby] *: bob joined", "[lobby] alice: hi bob",
        "[games] *: bob joined", "[games] carol: bob, white or black?"}},
      {"carol",
       {"[games] *: carol joined", "[games] carol: anyone for chess?",
        "[games] *: bob joined", "[games] carol: bob, white or black?"}},
  };
  // Before anyone leaves (the rooms would hear "left" lines).
  const auto heard = transcripts.Snapshot();
  for (auto& [name, client] : clients) client->Disconnect();
  server.Stop();
  for (const auto& [name, lines] : expected) {
    std::printf("--- %s heard:\n", name.c_str());
    auto it = heard.find(name);
    const std::vector<std::string> got =
        it != heard.end() ? it->second : std::vector<std::string>{};
    for (const std::string& line : got) std::printf("  %s\n", line.c_str());
    if (got != lines) {
      return Fail(absl::StrCat(name, " heard [", absl::StrJoin(got, " | "),
                               "], expected [", absl::StrJoin(lines, " | "),
                               "]"));
    }
  }
  std::printf("rooms demo: every line reached exactly its room\n");
  return 0;
}
