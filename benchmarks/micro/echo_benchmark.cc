// Raw echo throughput through tao's reactor (no message layer): a TcpServer
// on one I/O loop echoes 16 KiB blocks for 1 and 100 concurrent loopback
// connections driven by blocking client sockets on the benchmark thread.
// Reports bytes_per_second of echoed payload (each byte goes both ways).
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/blocking_io.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/options.h"
#include "tao/net/tcp_server.h"

namespace {

// Echoes every byte back at once, inline on the I/O loop.
class Echo : public tao::ConnectionHandler {
 public:
  void OnData(tao::Connection& c, tao::Buffer& in) override {
    (void)c.Send(in.view());
    in.RetrieveAll();
  }
};

// Measures echo of one 16 KiB block per connection per iteration.
void BM_TaoEcho_Throughput(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  const size_t block = static_cast<size_t>(state.range(1));
  tao::TcpServerOptions options;
  options.io_threads = 1;
  tao::TcpServer server(options, [] { return std::make_unique<Echo>(); });
  if (!server.Listen("127.0.0.1:0").ok() || !server.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  std::vector<int> fds;
  for (int i = 0; i < connections; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const auto& addr = server.listen_address();
    if (fd < 0 || ::connect(fd, addr.sockaddr(), addr.socklen()) != 0) {
      state.SkipWithError("connect failed");
      return;
    }
    fds.push_back(fd);
  }
  const std::string out(block, 'x');
  std::string in(block, '\0');
  for (auto _ : state) {
    for (int fd : fds) {
      if (!tao::bench::WriteAll(fd, out.data(), out.size())) {
        state.SkipWithError("write failed");
        break;
      }
    }
    for (int fd : fds) {
      if (!tao::bench::ReadAll(fd, in.data(), in.size())) {
        state.SkipWithError("read failed");
        break;
      }
    }
  }
  state.SetBytesProcessed(state.iterations() * connections *
                          static_cast<int64_t>(block));
  for (int fd : fds) ::close(fd);
  server.Stop(absl::Seconds(1));
  server.Join();
}
BENCHMARK(BM_TaoEcho_Throughput)
    ->ArgNames({"connections", "block"})
    ->Args({1, 16 << 10})
    ->Args({100, 16 << 10})
    ->UseRealTime();

}  // namespace
