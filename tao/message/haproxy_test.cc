// Integration test with a real HAProxy (Debian's haproxy, installed by
// ./bazelw) in front of two tao message Servers on loopback: HAProxy sends
// PROXY v2 headers (send-proxy-v2) and health-checks each server's /healthz
// (ListenMetrics). Checks that clients are spread over both servers, that
// each server sees the client's own address (not HAProxy's), and that a
// server that Stop()s drains its connections, is taken out by the health
// check, and that the other server's clients and new clients see no error.
//
// Ports are chosen at run time (a socket bound to port 0, closed, handed to
// HAProxy; a failed start retries with new ports). Every wait is bounded;
// HAProxy is killed and reaped by an RAII guard, also when a check fails.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/net/socket.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

extern char** environ;

namespace tao {
namespace {

using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kWhoAmI = 1;
constexpr absl::Duration kDeadline = absl::Seconds(30);
// Between polls of something that has no event to wait on (HAProxy's
// listener, its view of the servers).
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

std::optional<std::string> FindHaproxy() {
  for (const char* path :
       {"/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return std::nullopt;
}

// A port nothing listens on now (bound, read, closed).
absl::StatusOr<uint16_t> FreePort() {
  absl::StatusOr<Socket> socket = Socket::Create(AF_INET);
  if (!socket.ok()) return socket.status();
  absl::Status bound = socket->Bind(InetAddress::Loopback(0));
  if (!bound.ok()) return bound;
  absl::StatusOr<InetAddress> local = socket->LocalAddress();
  if (!local.ok()) return local.status();
  return local->port();
}

// HAProxy as a child process (haproxy -f cfg -db); killed (SIGKILL) and
// reaped on destruction.
class HaproxyProcess {
 public:
  static absl::StatusOr<std::unique_ptr<HaproxyProcess>> Spawn(
      const std::string& binary, const std::string& config_path) {
    std::vector<std::string> args = {binary, "-f", config_path, "-db"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, binary.c_str(), nullptr, nullptr,
                                  argv.data(), environ);
    if (error != 0) return absl::ErrnoToStatus(error, "posix_spawn haproxy");
    return std::unique_ptr<HaproxyProcess>(new HaproxyProcess(pid));
  }
  ~HaproxyProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  // True once it has exited (e.g. a port was taken), reaped.
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) pid_ = 0;
    return pid_ == 0;
  }

 private:
  explicit HaproxyProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// One tao message server whose handler answers kWhoAmI with
// "<index> <peer address it sees>".
struct Backend {
  explicit Backend(int index) {
    EXPECT_TRUE(
        registry
            .RegisterRaw(kWhoAmI,
                         [index](Context& ctx, absl::string_view) {
                           (void)ctx.ReplyRaw(
                               kWhoAmI,
                               absl::StrCat(
                                   index, " ",
                                   ctx.connection().peer_address().ToString()));
                         })
            .ok());
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = 0;
    options.proxy_protocol.trusted_sources = {"127.0.0.1"};
    server = std::make_unique<Server>(options, &registry);
  }
  ~Backend() {
    if (!joined) {
      server->Stop(absl::Seconds(5));
      server->Join();
    }
  }
  Registry registry;  // outlives server
  std::unique_ptr<Server> server;
  bool joined = false;
};

// What a client learnt from one round trip through HAProxy.
struct Answer {
  int server = -1;
  std::string peer;  // the address the server saw
};

absl::StatusOr<Answer> Ask(TestPeer& peer,
                           absl::Duration timeout = absl::Seconds(10)) {
  absl::Status written = peer.WriteAll(TlvFrame(kWhoAmI, "?"), timeout);
  if (!written.ok()) return written;
  absl::StatusOr<std::string> header = peer.ReadExactly(8, timeout);
  if (!header.ok()) return header.status();
  uint32_t length = 0;
  std::memcpy(&length, header->data() + 4, 4);  // little-endian host
  absl::StatusOr<std::string> payload = peer.ReadExactly(length, timeout);
  if (!payload.ok()) return payload.status();
  std::vector<std::string> parts = absl::StrSplit(*payload, ' ');
  Answer answer;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &answer.server)) {
    return absl::InternalError(absl::StrCat("bad answer: ", *payload));
  }
  answer.peer = parts[1];
  return answer;
}

// "show stat" over HAProxy's stats socket: the status column ("UP",
// "DOWN", ...) of server `name` in proxy "tao".
absl::StatusOr<std::string> ServerStatus(const InetAddress& stats,
                                         absl::string_view name) {
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(stats, absl::Seconds(5));
  if (!peer.ok()) return peer.status();
  absl::Status written = peer->WriteAll("show stat\n");
  if (!written.ok()) return written;
  absl::StatusOr<std::string> csv = peer->ReadUntilEof(absl::Seconds(5));
  if (!csv.ok()) return csv.status();
  std::vector<std::string> lines = absl::StrSplit(*csv, '\n');
  if (lines.empty() || !absl::StartsWith(lines[0], "# ")) {
    return absl::InternalError(absl::StrCat("bad show stat: ", *csv));
  }
  std::vector<std::string> columns =
      absl::StrSplit(absl::string_view(lines[0]).substr(2), ',');
  size_t status_column = 0;
  while (status_column < columns.size() && columns[status_column] != "status") {
    ++status_column;
  }
  for (const std::string& line : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() > status_column && fields[0] == "tao" &&
        fields[1] == name) {
      return fields[status_column];
    }
  }
  return absl::NotFoundError(absl::StrCat("no server ", name, ": ", *csv));
}

class HaproxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    haproxy_binary_ = FindHaproxy();
    if (!haproxy_binary_.has_value()) {
      GTEST_SKIP() << "haproxy is not installed (./bazelw installs it)";
    }
    for (int i = 0; i < 2; ++i) {
      backends_.push_back(std::make_unique<Backend>(i));
      Server& server = *backends_.back()->server;
      ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
      ASSERT_TRUE(server.ListenMetrics("127.0.0.1:0").ok());
      ASSERT_TRUE(server.Start().ok());
    }
    // HAProxy binds ports we chose and released: another process may take
    // one in between, then HAProxy exits and we try again.
    for (int attempt = 0; attempt < 5 && haproxy_ == nullptr; ++attempt) {
      absl::Status started = StartHaproxy();
      if (!started.ok()) {
        ADD_FAILURE() << started;
        return;
      }
    }
    ASSERT_NE(haproxy_, nullptr) << "HAProxy did not start in 5 attempts";
  }

  void TearDown() override {
    haproxy_.reset();  // before the servers: no health checks against them
    backends_.clear();
  }

  std::string Config(uint16_t frontend, uint16_t stats) const {
    std::string servers;
    for (size_t i = 0; i < backends_.size(); ++i) {
      const Server& server = *backends_[i]->server;
      absl::StrAppend(&servers, "  server s", i + 1, " ",
                      server.listen_address().ToString(),
                      " send-proxy-v2 check port ",
                      server.metrics_address().port(), "\n");
    }
    return absl::StrCat(
        "global\n"
        "  maxconn 512\n"
        "  stats socket ipv4@127.0.0.1:",
        stats,
        " level admin\n"
        "defaults\n"
        "  mode tcp\n"
        "  timeout connect 2s\n"
        "  timeout client 60s\n"
        "  timeout server 60s\n"
        "  timeout check 5s\n"
        "  retries 3\n"
        "  option redispatch\n"
        "listen tao\n"
        "  bind 127.0.0.1:",
        frontend,
        "\n"
        "  balance roundrobin\n"
        "  option httpchk\n"
        "  http-check send meth GET uri /healthz\n"
        "  default-server inter 200ms fall 2 rise 1\n",
        servers);
  }

  // Writes the config, spawns HAProxy and waits until it accepts. OK with
  // haproxy_ null: it exited (a port was taken); try again.
  absl::Status StartHaproxy() {
    absl::StatusOr<uint16_t> frontend = FreePort();
    absl::StatusOr<uint16_t> stats = FreePort();
    if (!frontend.ok()) return frontend.status();
    if (!stats.ok()) return stats.status();
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string path =
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/haproxy.cfg");
    {
      std::ofstream out(path, std::ios::trunc);
      out << Config(*frontend, *stats);
      if (!out) return absl::InternalError("cannot write " + path);
    }
    absl::StatusOr<std::unique_ptr<HaproxyProcess>> process =
        HaproxyProcess::Spawn(*haproxy_binary_, path);
    if (!process.ok()) return process.status();
    const InetAddress address = InetAddress::Loopback(*frontend);
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      if ((*process)->Exited()) return absl::OkStatus();
      if (TestPeer::Connect(address, absl::Seconds(1)).ok()) {
        haproxy_ = *std::move(process);
        frontend_ = address;
        stats_ = InetAddress::Loopback(*stats);
        return absl::OkStatus();
      }
      absl::SleepFor(kPollInterval);
    }
    return absl::DeadlineExceededError("HAProxy did not accept in time");
  }

  // Waits until HAProxy reports server `name` as `status` ("UP", "DOWN").
  ::testing::AssertionResult WaitForStatus(absl::string_view name,
                                           absl::string_view status) {
    const absl::Time deadline = absl::Now() + kDeadline;
    std::string last;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::string> now = ServerStatus(stats_, name);
      last = now.ok() ? *now : now.status().ToString();
      if (now.ok() && absl::StartsWith(*now, status)) {
        return ::testing::AssertionSuccess();
      }
      absl::SleepFor(kPollInterval);
    }
    return ::testing::AssertionFailure()
           << name << " is not " << status << " (last: " << last << ")";
  }

  // A client through HAProxy, with its first answer.
  struct Client {
    TestPeer peer;
    Answer answer;
  };
  absl::StatusOr<Client> Connect() {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(frontend_);
    if (!peer.ok()) return peer.status();
    absl::StatusOr<Answer> answer = Ask(*peer);
    if (!answer.ok()) return answer.status();
    return Client{*std::move(peer), *std::move(answer)};
  }

  std::optional<std::string> haproxy_binary_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::unique_ptr<HaproxyProcess> haproxy_;
  InetAddress frontend_;
  InetAddress stats_;
};

TEST_F(HaproxyTest, SpreadsClientsKeepsTheirAddressesAndSurvivesAStop) {
  ASSERT_TRUE(WaitForStatus("s1", "UP"));
  ASSERT_TRUE(WaitForStatus("s2", "UP"));

  // Round robin: both servers get clients, and each sees the client's own
  // address and port, not HAProxy's.
  constexpr int kClients = 20;
  std::vector<Client> clients;
  std::array<int, 2> per_server{};
  for (int i = 0; i < kClients; ++i) {
    absl::StatusOr<Client> client = Connect();
    ASSERT_TRUE(client.ok()) << "client " << i << ": " << client.status();
    ASSERT_GE(client->answer.server, 0);
    ASSERT_LE(client->answer.server, 1);
    ++per_server[client->answer.server];
    EXPECT_EQ(client->answer.peer, client->peer.local_address().ToString());
    clients.push_back(*std::move(client));
  }
  EXPECT_GT(per_server[0], 0);
  EXPECT_GT(per_server[1], 0);
  for (int i = 0; i < 2; ++i) {
    const TcpServerStats stats = backends_[i]->server->tcp().stats();
    // At least: HAProxy also forwarded the connection that probed it.
    EXPECT_GE(stats.proxy_headers, static_cast<uint64_t>(per_server[i]));
    EXPECT_EQ(stats.proxy_header_errors, 0u);
    EXPECT_EQ(stats.proxy_untrusted_refused, 0u);
  }

  // Server 0 stops: /healthz turns 503 and its connections drain (each of
  // its clients reads an orderly EOF), while server 1's clients go on.
  Server& stopping = *backends_[0]->server;
  stopping.Stop(absl::Seconds(10));
  for (Client& client : clients) {
    if (client.answer.server != 0) continue;
    EXPECT_TRUE(client.peer.WaitClosed().ok());
    client.peer.Close();
  }
  stopping.Join();
  backends_[0]->joined = true;
  for (Client& client : clients) {
    if (client.answer.server != 1) continue;
    absl::StatusOr<Answer> again = Ask(client.peer);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->server, 1);
    EXPECT_EQ(again->peer, client.peer.local_address().ToString());
  }

  // Once HAProxy has seen it go, every new client lands on server 1.
  ASSERT_TRUE(WaitForStatus("s1", "DOWN"));
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Client> client = Connect();
    ASSERT_TRUE(client.ok()) << "new client " << i << ": " << client.status();
    EXPECT_EQ(client->answer.server, 1);
    EXPECT_EQ(client->answer.peer, client->peer.local_address().ToString());
  }
  EXPECT_EQ(backends_[1]->server->tcp().stats().proxy_header_errors, 0u);
}

}  // namespace
}  // namespace tao
