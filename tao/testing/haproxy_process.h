// Test-only: a real HAProxy (Debian's haproxy, installed by ./bazelw) as a
// child process on 127.0.0.1, in front of tao servers: mode tcp, round
// robin, a PROXY protocol v2 header to every backend (send-proxy-v2),
// health checks GET /healthz on each backend's metrics listener every
// 200 ms (2 failures take a backend out, 1 success brings it back), and
// retries with redispatch, so a connect refused by a stopping backend goes
// to another. Backend i is named "s<i+1>" in proxy "tao".
//
//   tao::testing::HaproxyProcess haproxy;
//   ASSERT_TRUE(haproxy.Start({{server.listen_address(),
//                               server.metrics_address()}}).ok());
//   ... connect clients to haproxy.address() ...
//   // the destructor kills and reaps it, also when a test fails
//
// Start writes the config (and HAProxy writes its messages, log_path())
// under $TEST_TMPDIR (else a temp dir), picks free
// ports (a port taken in between makes HAProxy exit: another is tried) and
// waits, with a deadline, until HAProxy accepts connections.
//
// Thread safety: one controlling thread.
#ifndef TAO_TESTING_HAPROXY_PROCESS_H_
#define TAO_TESTING_HAPROXY_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/net/inet_address.h"

namespace tao {
namespace testing {

struct HaproxyBackend {
  InetAddress address;  // where it serves (PROXY v2 first)
  InetAddress health;   // its metrics listener (/healthz)
};

class HaproxyProcess {
 public:
  HaproxyProcess() = default;
  ~HaproxyProcess();  // Kill()
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  // UNAVAILABLE when haproxy is not installed; DEADLINE_EXCEEDED when it
  // did not accept in time.
  absl::Status Start(const std::vector<HaproxyBackend>& backends,
                     absl::Duration deadline = absl::Seconds(30));
  // Where clients connect.
  const InetAddress& address() const { return frontend_; }
  // HAProxy's view of backend `name` ("UP", "DOWN", "UP 1/2", ...), from
  // "show stat" on its stats socket.
  absl::StatusOr<std::string> ServerStatus(absl::string_view name) const;
  // Polls ServerStatus until it starts with `status`.
  absl::Status WaitForStatus(absl::string_view name, absl::string_view status,
                             absl::Duration deadline = absl::Seconds(30)) const;
  // SIGKILL and reap; no-op when not running.
  void Kill();
  bool running() const { return pid_ > 0; }
  const std::string& config() const { return config_; }
  // Where HAProxy's own messages go.
  const std::string& log_path() const { return log_path_; }

 private:
  // OK with pid_ <= 0: HAProxy exited (a port was taken); try again.
  absl::Status Spawn(const std::string& binary,
                     const std::vector<HaproxyBackend>& backends,
                     absl::Time deadline);

  pid_t pid_ = -1;
  InetAddress frontend_;
  InetAddress stats_;
  std::string config_;
  std::string log_path_;
};

// The haproxy binary, if installed.
std::optional<std::string> FindHaproxy();

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_HAPROXY_PROCESS_H_
