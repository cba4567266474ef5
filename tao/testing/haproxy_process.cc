#include "tao/testing/haproxy_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tao/testing/free_port.h"
#include "tao/testing/loopback.h"

extern char** environ;

namespace tao {
namespace testing {
namespace {

// Between polls of what has no event to wait on (HAProxy's listener, its
// view of the backends).
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

std::string Config(const std::vector<HaproxyBackend>& backends,
                   uint16_t frontend, uint16_t stats) {
  std::string servers;
  for (size_t i = 0; i < backends.size(); ++i) {
    absl::StrAppend(
        &servers, "  server s", i + 1, " ", backends[i].address.ToString(),
        " send-proxy-v2 check port ", backends[i].health.port(), "\n");
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

std::string ConfigPath() {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (dir != nullptr) return absl::StrCat(dir, "/haproxy.cfg");
  char templ[] = "/tmp/tao-haproxy-XXXXXX";
  const char* made = ::mkdtemp(templ);
  return absl::StrCat(made != nullptr ? made : "/tmp", "/haproxy.cfg");
}

}  // namespace

std::optional<std::string> FindHaproxy() {
  for (const char* path :
       {"/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return std::nullopt;
}

HaproxyProcess::~HaproxyProcess() { Kill(); }

void HaproxyProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

absl::Status HaproxyProcess::Start(const std::vector<HaproxyBackend>& backends,
                                   absl::Duration deadline) {
  std::optional<std::string> binary = FindHaproxy();
  if (!binary.has_value()) {
    return absl::UnavailableError(
        "haproxy is not installed (./bazelw installs it)");
  }
  const absl::Time until = absl::Now() + deadline;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::Status started = Spawn(*binary, backends, until);
    if (!started.ok()) return started;
    if (pid_ > 0) return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("HAProxy did not start in 5 attempts; config:\n", config_));
}

absl::Status HaproxyProcess::Spawn(const std::string& binary,
                                   const std::vector<HaproxyBackend>& backends,
                                   absl::Time deadline) {
  absl::StatusOr<uint16_t> frontend = PickFreePort();
  if (!frontend.ok()) return frontend.status();
  absl::StatusOr<uint16_t> stats = PickFreePort();
  if (!stats.ok()) return stats.status();
  config_ = Config(backends, *frontend, *stats);
  const std::string path = ConfigPath();
  {
    std::ofstream out(path, std::ios::trunc);
    out << config_;
    if (!out) return absl::InternalError("cannot write " + path);
  }
  std::vector<std::string> args = {binary, "-f", path, "-db"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Its messages (servers going up and down) go to a file beside the
  // config, not into the test's or demo's output.
  log_path_ = path.substr(0, path.rfind('/')) + "/haproxy.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int error = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr,
                                  argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    pid_ = -1;
    return absl::ErrnoToStatus(error, "posix_spawn haproxy");
  }
  frontend_ = InetAddress::Loopback(*frontend);
  stats_ = InetAddress::Loopback(*stats);
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken?
      pid_ = -1;
      return absl::OkStatus();
    }
    if (TestPeer::Connect(frontend_, absl::Seconds(1)).ok()) {
      return absl::OkStatus();
    }
    absl::SleepFor(kPollInterval);
  }
  Kill();
  return absl::DeadlineExceededError("HAProxy did not accept in time");
}

absl::StatusOr<std::string> HaproxyProcess::ServerStatus(
    absl::string_view name) const {
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(stats_, absl::Seconds(5));
  if (!peer.ok()) return peer.status();
  if (absl::Status written = peer->WriteAll("show stat\n"); !written.ok()) {
    return written;
  }
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

absl::Status HaproxyProcess::WaitForStatus(absl::string_view name,
                                           absl::string_view status,
                                           absl::Duration deadline) const {
  const absl::Time until = absl::Now() + deadline;
  std::string last;
  while (absl::Now() < until) {
    absl::StatusOr<std::string> now = ServerStatus(name);
    last = now.ok() ? *now : now.status().ToString();
    if (now.ok() && absl::StartsWith(*now, status)) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat(name, " is not ", status, " (last: ", last, ")"));
}

}  // namespace testing
}  // namespace tao
