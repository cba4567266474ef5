// Timer precision: how late a 1 ms periodic timer fires on an I/O loop, on
// an idle loop and while the same loop echoes TLV traffic for a client that
// keeps 16 frames in flight. Lateness is measured against the ideal
// schedule start + k * interval (RunEvery does not drift; missed ticks are
// skipped), and reported as p50/p99/max microseconds counters.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/inline_echo_server.h"
#include "tao/tao.h"

namespace {

constexpr absl::Duration kInterval = absl::Milliseconds(1);
constexpr int kTicks = 2000;

// Blocking client: keeps `depth` echo frames in flight until told to stop.
void EchoLoad(const tao::InetAddress& address, std::atomic<bool>* stop) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, address.sockaddr(), address.socklen()) != 0) {
    return;
  }
  std::string frame;
  (void)tao::TlvCodec::Default().AppendFrame(1, std::string(32, 'x'), &frame);
  std::string burst;
  for (int i = 0; i < 16; ++i) burst += frame;
  std::string in(burst.size(), '\0');
  while (!stop->load(std::memory_order_relaxed)) {
    if (::write(fd, burst.data(), burst.size()) !=
        static_cast<ssize_t>(burst.size())) {
      break;
    }
    size_t got = 0;
    while (got < in.size()) {
      ssize_t n = ::read(fd, in.data() + got, in.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
  }
  ::close(fd);
}

void BM_TimerLateness(benchmark::State& state) {
  const bool loaded = state.range(0) != 0;
  tao::bench::InlineEchoServer echo;
  if (!echo.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  tao::Server& server = echo.server();
  std::atomic<bool> stop{false};
  std::thread load;
  if (loaded) load = std::thread(EchoLoad, server.listen_address(), &stop);

  std::vector<double> late_us;
  for (auto _ : state) {
    // Shared with the periodic callback, which may run once more after
    // CancelSched returns (the cancel is processed on the loop).
    struct Probe {
      absl::Mutex mu;
      std::vector<absl::Duration> lateness ABSL_GUARDED_BY(mu);
      absl::Time start;
      absl::Time previous ABSL_GUARDED_BY(mu);
      bool done ABSL_GUARDED_BY(mu) = false;
    };
    auto probe = std::make_shared<Probe>();
    {
      absl::MutexLock lock(&probe->mu);
      probe->lateness.reserve(kTicks);
      probe->start = probe->previous = absl::Now();
    }
    absl::StatusOr<tao::TimerId> id = server.Sched(kInterval, [probe] {
      absl::MutexLock lock(&probe->mu);
      if (probe->done) return;
      // The deadline this firing was due at: the first point of the ideal
      // schedule after the previous firing (a late loop skips ticks rather
      // than bursting, so counting callbacks would overstate lateness).
      const absl::Time now = absl::Now();
      const int64_t due_index =
          (probe->previous - probe->start) / kInterval + 1;
      probe->lateness.push_back(now - (probe->start + due_index * kInterval));
      probe->previous = now;
      if (probe->lateness.size() == static_cast<size_t>(kTicks)) {
        probe->done = true;
      }
    });
    if (!id.ok()) {
      state.SkipWithError("Sched failed");
      break;
    }
    absl::MutexLock lock(&probe->mu);
    probe->mu.Await(absl::Condition(&probe->done));
    server.CancelSched(*id);
    for (absl::Duration d : probe->lateness) {
      late_us.push_back(absl::ToDoubleMicroseconds(d));
    }
  }
  stop = true;
  if (load.joinable()) load.join();
  if (late_us.empty()) return;
  std::sort(late_us.begin(), late_us.end());
  state.counters["p50_us"] = late_us[late_us.size() / 2];
  state.counters["p99_us"] = late_us[late_us.size() * 99 / 100];
  state.counters["max_us"] = late_us.back();
  state.counters["ticks"] = static_cast<double>(late_us.size());
}
BENCHMARK(BM_TimerLateness)
    ->ArgName("echo_load")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
