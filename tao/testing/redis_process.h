// Test-only: a real redis-server as a child process on 127.0.0.1, for the
// cluster tests and benchmarks. No persistence (--save '' --appendonly no),
// its working directory under $TEST_TMPDIR (else /tmp).
//
//   tao::testing::RedisProcess redis;
//   ASSERT_TRUE(redis.Start().ok()) << redis.log();   // a free port
//   ... "127.0.0.1:" + redis.port() ...
//   redis.Kill();                   // SIGKILL, reaped
//   ASSERT_TRUE(redis.Restart().ok());   // the same port again
//   // the destructor kills and reaps it, also when a test fails
//
// Start waits, with a deadline, until the server has logged that it accepts
// connections and answered PING; a server that does not start (the port
// was taken in between) is retried on another port.
//
// Thread safety: one controlling thread; log() from any.
#ifndef TAO_TESTING_REDIS_PROCESS_H_
#define TAO_TESTING_REDIS_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/testing/free_port.h"  // PickFreePort, for the callers too

namespace tao {
namespace testing {

class RedisProcess {
 public:
  RedisProcess() = default;
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // A free port (tries a few), then the server on it.
  absl::Status Start(absl::Duration deadline = absl::Seconds(20));
  // The server again on port() after Kill().
  absl::Status Restart(absl::Duration deadline = absl::Seconds(20));
  // SIGKILL and reap; no-op when not running.
  void Kill();
  // SIGSTOP / SIGCONT: a Redis that keeps its connections and answers
  // nothing (a slow Redis), and the same again answering.
  void Pause();
  void Resume();

  int port() const { return port_; }
  std::string address() const;
  bool running() const { return pid_ > 0; }
  // What the server printed (for failure messages).
  std::string log() const;

 private:
  absl::Status Spawn(absl::Duration deadline);
  void DrainOutput(int fd);

  int port_ = 0;
  pid_t pid_ = -1;
  std::thread drain_;

  mutable absl::Mutex mu_;
  std::string log_ ABSL_GUARDED_BY(mu_);
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool output_closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_REDIS_PROCESS_H_
