#include "tao/testing/redis_process.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace tao {
namespace testing {
namespace {

constexpr absl::string_view kReady = "Ready to accept connections";

bool AnswersPing(int port, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr) return false;
  bool pong = false;
  if (c->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    pong = reply != nullptr && reply->type == REDIS_REPLY_STATUS &&
           absl::string_view(reply->str, reply->len) == "PONG";
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(c);
  return pong;
}

}  // namespace

RedisProcess::~RedisProcess() { Kill(); }

std::string RedisProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string RedisProcess::log() const {
  absl::MutexLock lock(&mu_);
  return log_;
}

absl::Status RedisProcess::Start(absl::Duration deadline) {
  absl::Status last = absl::UnknownError("no attempt");
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreePort();
    if (!port.ok()) return port.status();
    port_ = *port;
    last = Spawn(deadline);
    if (last.ok()) return last;
    Kill();
  }
  return last;
}

absl::Status RedisProcess::Restart(absl::Duration deadline) {
  Kill();
  absl::Status started = Spawn(deadline);
  if (!started.ok()) Kill();
  return started;
}

absl::Status RedisProcess::Spawn(absl::Duration deadline) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/redis-", port_);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", dir));
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    return absl::ErrnoToStatus(errno, "pipe");

  const std::string port = absl::StrCat(port_);
  std::vector<std::string> args = {
      "redis-server", "--port", port,    "--bind", "127.0.0.1", "--save", "",
      "--appendonly", "no",     "--dir", dir};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, "redis-server", &actions, nullptr,
                                   argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return absl::ErrnoToStatus(spawned, "posix_spawnp redis-server");
  }
  pid_ = pid;
  {
    absl::MutexLock lock(&mu_);
    log_.clear();
    ready_ = false;
    output_closed_ = false;
  }
  drain_ = std::thread([this, fd = pipe_fds[0]] { DrainOutput(fd); });

  // Event-driven: the server's own "ready" line, or its exit (EOF).
  bool ready = false;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return ready_ || output_closed_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), deadline);
    ready = ready_;
  }
  if (!ready) {
    return absl::UnavailableError(absl::StrCat("redis-server on port ", port_,
                                               " did not start: ", log()));
  }
  if (!AnswersPing(port_, absl::Seconds(5))) {
    return absl::UnavailableError(absl::StrCat(
        "redis-server on port ", port_, " does not answer PING: ", log()));
  }
  return absl::OkStatus();
}

void RedisProcess::DrainOutput(int fd) {
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    absl::MutexLock lock(&mu_);
    if (n <= 0) {
      output_closed_ = true;
      break;
    }
    log_.append(buffer, static_cast<size_t>(n));
    if (absl::StrContains(log_, kReady)) ready_ = true;
  }
  close(fd);
}

void RedisProcess::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisProcess::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void RedisProcess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  // The pipe's write end closed with the process: the drain thread ends.
  if (drain_.joinable()) drain_.join();
}

}  // namespace testing
}  // namespace tao
