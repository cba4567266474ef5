// Runs the README's server (readme_server) the way a user would: starts it
// on 127.0.0.1:0, connects two message clients, one of them says a line and
// both hear it, then stops the server with SIGTERM and expects exit 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "examples/chat/chat.pb.h"
#include "examples/chat/chat_client.h"
#include "gtest/gtest.h"
#include "tao/tao.h"

extern char** environ;

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

// The readme_server binary in this test's runfiles.
std::string ServerBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) {
    return "examples/readme/readme_server";
  }
  return absl::StrCat(srcdir, "/", workspace, "/examples/readme/readme_server");
}

// The server as a child process with its stdout on a pipe; killed on
// destruction if still running.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  absl::Status Start(const std::string& binary,
                     const std::vector<std::string>& args) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
      return absl::ErrnoToStatus(errno, "pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<std::string> argv_storage = {binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr,
                               argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    stdout_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      return absl::ErrnoToStatus(rc, absl::StrCat("posix_spawn ", binary));
    }
    return absl::OkStatus();
  }

  // The next line the server prints (without the newline).
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const size_t newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      absl::StatusOr<bool> more = ReadSome(deadline);
      if (!more.ok()) return more.status();
      if (!*more) {
        return absl::UnavailableError(absl::StrCat(
            "the server exited after printing \"", buffered_, "\""));
      }
    }
  }

  // SIGTERM, then waits for the server to exit; returns its wait status.
  absl::StatusOr<int> Terminate(absl::Duration timeout) {
    if (::kill(pid_, SIGTERM) != 0) return absl::ErrnoToStatus(errno, "kill");
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {  // its stdout closes when it exits
      absl::StatusOr<bool> more = ReadSome(deadline);
      if (!more.ok()) return more.status();
      if (!*more) break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) {
      return absl::ErrnoToStatus(errno, "waitpid");
    }
    pid_ = -1;
    return status;
  }

 private:
  // Appends what the server printed to buffered_; false at EOF.
  absl::StatusOr<bool> ReadSome(absl::Time deadline) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("the server did not answer in time");
    }
    struct pollfd pfd = {stdout_, POLLIN, 0};
    const int ready =
        ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
    if (ready <= 0) return true;  // timed out or interrupted: check again
    char buf[256];
    const ssize_t n = ::read(stdout_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return true;
      return absl::ErrnoToStatus(errno, "read");
    }
    buffered_.append(buf, static_cast<size_t>(n));
    return n > 0;
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string buffered_;
};

// A chat member (the chat example's client) that records what it hears.
class Member {
 public:
  explicit Member(std::string name)
      : client_(std::move(name), [this](const chat::ChatMessage& msg) {
          absl::MutexLock lock(&mu_);
          heard_.push_back(absl::StrCat(msg.from(), ": ", msg.text()));
        }) {}

  absl::Status Join(absl::string_view address) {
    return client_.Join(address, kTimeout);
  }
  absl::Status Say(absl::string_view text) { return client_.Say(text); }
  // Waits until `line` ("name: text") was heard.
  bool WaitHeard(const std::string& line) {
    absl::MutexLock lock(&mu_);
    auto heard = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return absl::c_linear_search(heard_, line);
    };
    return mu_.AwaitWithTimeout(absl::Condition(&heard), kTimeout);
  }
  void Leave() { client_.Leave(); }

 private:
  absl::Mutex mu_;
  std::vector<std::string> heard_ ABSL_GUARDED_BY(mu_);
  chat::ChatClient client_;  // last: its handler uses the members above
};

TEST(ReadmeServerTest, TwoClientsHearABroadcast) {
  ServerProcess server;
  ASSERT_TRUE(server.Start(ServerBinary(), {"--address=127.0.0.1:0"}).ok());
  absl::StatusOr<std::string> line = server.ReadLine(kTimeout);
  ASSERT_TRUE(line.ok()) << line.status();
  absl::string_view address = *line;
  ASSERT_TRUE(absl::ConsumePrefix(&address, "listening on ")) << *line;

  Member alice("alice");
  Member bob("bob");
  for (Member* member : {&alice, &bob}) {
    ASSERT_TRUE(member->Join(address).ok());
  }
  // Hearing its own hello means the server has counted that connection in
  // (a client's connect completes before the server accepts it).
  ASSERT_TRUE(alice.Say("hello").ok());
  ASSERT_TRUE(alice.WaitHeard("alice: hello"));
  ASSERT_TRUE(bob.Say("hello").ok());
  ASSERT_TRUE(bob.WaitHeard("bob: hello"));

  ASSERT_TRUE(alice.Say("hi bob").ok());
  EXPECT_TRUE(alice.WaitHeard("alice: hi bob"));
  EXPECT_TRUE(bob.WaitHeard("alice: hi bob"));
  alice.Leave();
  bob.Leave();

  absl::StatusOr<int> status = server.Terminate(kTimeout);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status)) << "wait status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
