// The cluster chat demo: one room across three servers. It starts its own
// redis-server and HAProxy (Debian's, installed by ./bazelw) on loopback
// ports chosen at run time, three chat servers behind HAProxy (PROXY
// protocol v2, health checks on /healthz) bridged over Redis pub/sub, and
// six clients that connect through HAProxy and join the room "lobby". Each
// client says a line; every member must hear every line exactly once,
// whichever server it is on. Then one server drains (Stop with grace):
// HAProxy sees its /healthz turn 503 and takes it out, and a newcomer lands
// on another server and is heard by every remaining member. Everything it
// started is stopped before it exits 0 (or 1 with the reason).
//   ./bazelw run //examples/cluster_chat:demo
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "examples/cluster_chat/cluster_chat_server.h"
#include "examples/common/transcripts.h"
#include "examples/rooms/rooms_client.h"
#include "tao/testing/haproxy_process.h"
#include "tao/testing/loopback.h"
#include "tao/testing/redis_process.h"

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(20);
constexpr absl::string_view kRoom = "lobby";
constexpr int kServers = 3;

using ::cluster_chat::ClusterChatServer;
using ::tao::examples::Transcripts;
using ::tao::testing::WaitFor;  // polls what has no event (gauges, groups)

int Fail(const std::string& why) {
  std::fprintf(stderr, "cluster chat demo failed: %s\n", why.c_str());
  return 1;
}

struct Member {
  std::string name;
  std::unique_ptr<rooms::RoomsClient> client;
  int server = -1;  // which server holds its connection
};

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::testing::RedisProcess redis;
  if (absl::Status s = redis.Start(); !s.ok()) {
    return Fail(absl::StrCat(s.ToString(), "\n", redis.log()));
  }
  std::printf("redis-server on %s\n", redis.address().c_str());

  std::vector<std::unique_ptr<ClusterChatServer>> servers;
  std::vector<tao::testing::HaproxyBackend> backends;
  for (int i = 0; i < kServers; ++i) {
    tao::ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = 1;
    options.proxy_protocol.trusted_sources = {"127.0.0.1"};
    tao::ClusterBridgeOptions bridge;
    bridge.redis_address = redis.address();
    bridge.channel_prefix = "cluster_chat";
    servers.push_back(
        std::make_unique<ClusterChatServer>(std::move(options), bridge));
    ClusterChatServer& server = *servers.back();
    absl::Status started = server.server().ListenMetrics("127.0.0.1:0");
    if (started.ok()) started = server.Start("127.0.0.1:0");
    if (!started.ok()) return Fail(started.ToString());
    backends.push_back(
        {server.server().listen_address(), server.server().metrics_address()});
    std::printf("chat server %d on %s (/healthz on %s)\n", i + 1,
                server.server().listen_address().ToString().c_str(),
                server.server().metrics_address().ToString().c_str());
  }
  if (!WaitFor([&] {
        for (const auto& server : servers) {
          if (!server->bridge().connected()) return false;
        }
        return true;
      })) {
    return Fail("the bridges did not connect to Redis");
  }

  tao::testing::HaproxyProcess haproxy;
  if (absl::Status s = haproxy.Start(backends); !s.ok()) {
    return Fail(s.ToString());
  }
  for (int i = 0; i < kServers; ++i) {
    if (absl::Status s = haproxy.WaitForStatus(absl::StrCat("s", i + 1), "UP");
        !s.ok()) {
      return Fail(s.ToString());
    }
  }
  std::printf("haproxy on %s in front of them (round robin, send-proxy-v2)\n",
              haproxy.address().ToString().c_str());

  // Lines said by members (not the server's "x joined" notices).
  Transcripts transcripts;
  std::vector<Member> members;
  auto join = [&](const std::string& name) -> absl::Status {
    Member member{name, nullptr, -1};
    member.client = std::make_unique<rooms::RoomsClient>(
        name, [&transcripts, name](const rooms::RoomMessage& message) {
          if (message.from() != "*") {
            transcripts.Heard(
                name, absl::StrCat("[", message.from(), "] ", message.text()));
          }
        });
    TAO_RETURN_IF_ERROR(
        member.client->Connect(haproxy.address().ToString(), kTimeout));
    TAO_RETURN_IF_ERROR(member.client->Join(kRoom));
    // The server whose room holds a connection from this client's own
    // address: the PROXY header told it who the client is.
    const tao::InetAddress mine = member.client->local_address();
    const bool found = WaitFor([&] {
      for (int i = 0; i < kServers; ++i) {
        for (const tao::ConnectionPtr& c :
             servers[i]->server().groups().Members(kRoom)) {
          if (c->peer_address() == mine) {
            member.server = i;
            return true;
          }
        }
      }
      return false;
    });
    if (!found) {
      return absl::NotFoundError(absl::StrCat(
          "no server has ", name, " (", mine.ToString(), ") in the room"));
    }
    std::printf(
        "%s joined through haproxy: on server %d, which sees the client's "
        "own address %s\n",
        name.c_str(), member.server + 1, mine.ToString().c_str());
    members.push_back(std::move(member));
    return absl::OkStatus();
  };
  for (const char* name : {"alice", "bob", "carol", "dave", "erin", "frank"}) {
    if (absl::Status s = join(name); !s.ok()) return Fail(s.ToString());
  }
  std::set<int> used;
  for (const Member& m : members) used.insert(m.server);
  if (used.size() != kServers) {
    return Fail("haproxy did not spread the clients over every server");
  }

  auto names_of = [&](auto keep) {
    std::vector<std::string> names;
    for (const Member& m : members) {
      if (keep(m)) names.push_back(m.name);
    }
    return names;
  };
  const std::vector<std::string> everyone =
      names_of([](const Member&) { return true; });
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string line =
        absl::StrCat("hello from server ", members[i].server + 1);
    std::printf("%s says: %s\n", members[i].name.c_str(), line.c_str());
    if (absl::Status s = members[i].client->Say(kRoom, line); !s.ok()) {
      return Fail(s.ToString());
    }
    if (!transcripts.WaitForAll(everyone, i + 1, kTimeout)) {
      return Fail(absl::StrCat("not every member heard ", members[i].name));
    }
  }
  for (const auto& [name, heard] : transcripts.Snapshot()) {
    if (heard.size() != members.size()) {
      return Fail(absl::StrCat(name, " heard ", heard.size(), " lines, not ",
                               members.size()));
    }
    if (std::set<std::string>(heard.begin(), heard.end()).size() !=
        heard.size()) {
      return Fail(absl::StrCat(name, " heard a line twice"));
    }
  }
  std::printf("--- every member heard all %zu lines exactly once:\n",
              members.size());
  for (const auto& [name, heard] : transcripts.Snapshot()) {
    std::printf("  %s: %s ... %s\n", name.c_str(), heard.front().c_str(),
                heard.back().c_str());
  }
  for (int i = 0; i < kServers; ++i) {
    const tao::ClusterBridgeStats stats = servers[i]->bridge().stats();
    std::printf(
        "server %d's bridge: %llu published to Redis, %llu received "
        "from the others, %llu dropped\n",
        i + 1, static_cast<unsigned long long>(stats.published),
        static_cast<unsigned long long>(stats.received),
        static_cast<unsigned long long>(stats.dropped));
  }

  // Drain server 1: its members are let go, HAProxy takes it out, a
  // newcomer lands elsewhere and the others hear her.
  std::printf("--- server 1 drains (Stop, 2 s grace)\n");
  servers[0]->Stop(absl::Seconds(2));
  if (absl::Status s = haproxy.WaitForStatus("s1", "DOWN"); !s.ok()) {
    return Fail(s.ToString());
  }
  std::printf("haproxy took server 1 out (its /healthz said 503)\n");
  const size_t said = members.size();
  if (absl::Status s = join("grace"); !s.ok()) return Fail(s.ToString());
  if (members.back().server == 0) {
    return Fail("the newcomer landed on the drained server");
  }
  const std::vector<std::string> remaining =
      names_of([](const Member& m) { return m.server != 0; });
  if (absl::Status s = members.back().client->Say(kRoom, "made it"); !s.ok()) {
    return Fail(s.ToString());
  }
  std::printf("grace says: made it\n");
  // grace heard nothing before; everyone else heard `said` lines.
  if (!transcripts.WaitForAll({"grace"}, 1, kTimeout) ||
      !transcripts.WaitForAll(names_of([](const Member& m) {
                                return m.server != 0 && m.name != "grace";
                              }),
                              said + 1, kTimeout)) {
    return Fail("not every remaining member heard grace");
  }
  std::printf("every member on servers 2 and 3 heard her (%zu members)\n",
              remaining.size());

  for (Member& m : members) m.client->Disconnect();
  haproxy.Kill();
  for (int i = 1; i < kServers; ++i) servers[i]->Stop();
  redis.Kill();
  std::printf(
      "cluster chat demo: every member heard every line exactly once\n");
  return 0;
}
