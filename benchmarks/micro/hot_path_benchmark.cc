// The hot path end to end: read -> decode -> dispatch -> handler -> encode
// -> write, for a TLV echo with handlers inline on the I/O loop, and the
// same through a worker pool. A
// blocking client keeps `batch` 32-byte frames in flight on one loopback
// connection. Besides msgs/s it counts heap allocations per message in the
// whole process (operator new is replaced below), which DESIGN.md wants to
// be zero in steady state.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "benchmark/benchmark.h"
#include "benchmarks/micro/blocking_io.h"
#include "benchmarks/micro/inline_echo_server.h"
#include "tao/tao.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counting replacements of the global allocation functions. GCC cannot see
// that new and delete are replaced together and warns about free().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

// Echo of `batch` frames per iteration with handlers on `handler_threads`
// workers (0: inline); counters: allocations per message.
void EchoHotPath(benchmark::State& state, int handler_threads) {
  const int batch = static_cast<int>(state.range(0));
  tao::bench::InlineEchoServer echo(handler_threads);
  if (!echo.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  tao::Server& server = echo.server();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const tao::InetAddress& address = server.listen_address();
  if (fd < 0 || ::connect(fd, address.sockaddr(), address.socklen()) != 0) {
    state.SkipWithError("connect failed");
    return;
  }
  std::string frame;
  (void)tao::TlvCodec::Default().AppendFrame(1, std::string(32, 'x'), &frame);
  std::string out;
  for (int i = 0; i < batch; ++i) out += frame;
  std::string in(out.size(), '\0');
  // Warm up: buffers, per-thread messages and scratch reach steady size.
  for (int i = 0; i < 100; ++i) {
    if (!tao::bench::WriteAll(fd, out.data(), out.size()) ||
        !tao::bench::ReadAll(fd, in.data(), in.size())) {
      state.SkipWithError("warm-up failed");
      return;
    }
  }
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    if (!tao::bench::WriteAll(fd, out.data(), out.size()) ||
        !tao::bench::ReadAll(fd, in.data(), in.size())) {
      state.SkipWithError("echo failed");
      break;
    }
  }
  const uint64_t allocations = g_allocations.load() - before;
  const double messages = static_cast<double>(state.iterations()) * batch;
  state.SetItemsProcessed(static_cast<int64_t>(messages));
  state.counters["allocs_per_msg"] = allocations / messages;
  ::close(fd);
}

void BM_InlineEcho_HotPath(benchmark::State& state) { EchoHotPath(state, 0); }
BENCHMARK(BM_InlineEcho_HotPath)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(16)
    ->UseRealTime();

// The same through a worker pool of one thread: per-connection order kept,
// the handler on another thread than the loop.
void BM_PoolEcho_HotPath(benchmark::State& state) { EchoHotPath(state, 1); }
BENCHMARK(BM_PoolEcho_HotPath)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(16)
    ->UseRealTime();

}  // namespace
