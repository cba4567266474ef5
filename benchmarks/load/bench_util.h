// Small helpers the load generator, the soak's peers and the echo servers
// under test share: IPv4 address parsing, listening sockets, the port file
// the harness reads, the file descriptor limit, a synchronous SIGINT/SIGTERM
// wait, a monotonic clock and JSON output. No tao dependency, so the
// baselines measure nothing of tao's.
#ifndef BENCHMARKS_LOAD_BENCH_UTIL_H_
#define BENCHMARKS_LOAD_BENCH_UTIL_H_

#include <netinet/in.h>
#include <signal.h>

#include <cstdint>
#include <ctime>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao::bench {

// "a.b.c.d:port" (IPv4 only; "localhost" means 127.0.0.1). Port 0 is
// allowed (listen on a kernel-chosen port).
absl::StatusOr<sockaddr_in> ParseIpv4(absl::string_view text);
std::string FormatIpv4(const sockaddr_in& addr);

// A non-blocking listening TCP socket bound to `addr` (SO_REUSEADDR, and
// SO_REUSEPORT when asked). Returns the fd; `*bound` receives the address
// actually bound (the kernel's port for port 0).
absl::StatusOr<int> ListenTcp(const sockaddr_in& addr, bool reuse_port,
                              sockaddr_in* bound);

// Writes "<port>\n" to `path` atomically (a temporary file, then rename), so
// a reader polling for the file never sees it half-written. No-op for "".
absl::Status WritePortFile(const std::string& path, int port);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft
// limit.
uint64_t RaiseFdLimit();

// Construct first thing in main(), before any thread starts: blocks SIGINT
// and SIGTERM in every thread, so Wait() can receive them synchronously.
class ShutdownSignal {
 public:
  ShutdownSignal();
  // Blocks until SIGINT or SIGTERM arrives; returns the signal number.
  int Wait();
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_;
};

// CLOCK_MONOTONIC in nanoseconds.
inline int64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Waits until `deadline_ns` (NowNs() time) or until SIGINT/SIGTERM arrives;
// true when a signal arrived.
bool SleepUntil(const ShutdownSignal& signals, int64_t deadline_ns);

// `s` as a JSON string literal, quotes included.
std::string JsonString(const std::string& s);

// Writes `text` to `path` ("-": stdout). An error names the path.
absl::Status WriteText(const std::string& path, const std::string& text);

}  // namespace tao::bench

#endif  // BENCHMARKS_LOAD_BENCH_UTIL_H_
