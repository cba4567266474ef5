// TLS cost in tao, next to plain TCP in the same run:
// - BM_ConnectHandshakeEcho: connections per second, each a TCP connect,
//   the TLS handshake (full or resumed; none for plain) and a 1-byte echo
//   (which also delivers TLS 1.3 session tickets), then close. items/s is
//   handshakes/s with both ends on this machine.
// - BM_Echo: echo throughput of one connection, 16 KiB and 256 KiB blocks.
// The server is a tao::TcpServer on one I/O loop with a byte echo; the client
// is a blocking socket (BoringSSL for TLS) on the benchmark thread, so its
// crypto is counted too. Certificates are generated at start (EC P-256).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/blocking_io.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/options.h"
#include "tao/net/tcp_server.h"
#include "tao/tls/test_certs.h"
#include "tao/tls/tls_context.h"
#include "tao/tls/tls_test_util.h"

namespace {

using tao::testing::BlockingTlsClient;
using tao::testing::BlockingTlsContext;

enum class Mode { kPlain, kTls13, kTls13Resumed, kTls12, kTls12Resumed };

bool IsTls(Mode m) { return m != Mode::kPlain; }
bool IsResumed(Mode m) {
  return m == Mode::kTls13Resumed || m == Mode::kTls12Resumed;
}
int MaxVersion(Mode m) {
  return m == Mode::kTls12 || m == Mode::kTls12Resumed ? TLS1_2_VERSION
                                                       : TLS1_3_VERSION;
}

const tao::testing::TestCerts& Certs() {
  static const tao::testing::TestCerts* const certs = [] {
    absl::StatusOr<tao::testing::TestCerts> made =
        tao::testing::MakeTestCerts();
    return made.ok() ? new tao::testing::TestCerts(*std::move(made)) : nullptr;
  }();
  return *certs;
}

// Echoes every byte back at once, inline on the I/O loop.
class Echo : public tao::ConnectionHandler {
 public:
  void OnData(tao::Connection& c, tao::Buffer& in) override {
    (void)c.Send(in.view());
    in.RetrieveAll();
  }
};

// A byte-echo server, TLS or plain.
class EchoServer {
 public:
  explicit EchoServer(bool tls) {
    tao::TcpServerOptions options;
    options.io_threads = 1;
    if (tls) {
      tao::TlsOptions tls_options;
      tls_options.cert_chain_pem = Certs().server.cert_pem;
      tls_options.private_key_pem = Certs().server.key_pem;
      absl::StatusOr<std::shared_ptr<tao::TlsContext>> ctx =
          tao::TlsContext::NewServer(tls_options);
      if (!ctx.ok()) return;
      options.tls = *ctx;
    }
    server_ = std::make_unique<tao::TcpServer>(
        options, [] { return std::make_unique<Echo>(); });
    ok_ = server_->Listen("127.0.0.1:0").ok() && server_->Start().ok();
  }
  ~EchoServer() {
    if (server_ != nullptr) {
      server_->Stop(absl::Seconds(1));
      server_->Join();
    }
  }
  bool ok() const { return ok_; }
  const tao::InetAddress& address() const { return server_->listen_address(); }

 private:
  std::unique_ptr<tao::TcpServer> server_;
  bool ok_ = false;
};

// A plain blocking connection.
int ConnectPlain(const tao::InetAddress& to) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;  // as the TLS client does
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, to.sockaddr(), to.socklen()) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::unique_ptr<BlockingTlsContext> ClientContext(Mode mode) {
  BlockingTlsContext::Config config;
  config.ca_pem = Certs().ca.cert_pem;
  config.max_version = MaxVersion(mode);
  config.resume = IsResumed(mode);
  absl::StatusOr<std::unique_ptr<BlockingTlsContext>> ctx =
      BlockingTlsContext::Create(config);
  return ctx.ok() ? *std::move(ctx) : nullptr;
}

void BM_ConnectHandshakeEcho(benchmark::State& state, Mode mode) {
  EchoServer server(IsTls(mode));
  std::unique_ptr<BlockingTlsContext> ctx = ClientContext(mode);
  if (!server.ok() || ctx == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  char byte = 'x';
  int64_t resumed = 0;
  for (auto _ : state) {
    if (!IsTls(mode)) {
      const int fd = ConnectPlain(server.address());
      if (fd < 0 || !tao::bench::WriteAll(fd, &byte, 1) ||
          !tao::bench::ReadAll(fd, &byte, 1)) {
        state.SkipWithError("plain round trip failed");
        break;
      }
      ::close(fd);
      continue;
    }
    absl::StatusOr<BlockingTlsClient> client =
        BlockingTlsClient::Connect(*ctx, server.address());
    if (!client.ok() || !client->WriteAll("x").ok() ||
        !client->ReadExactly(1).ok()) {
      state.SkipWithError("TLS round trip failed");
      break;
    }
    resumed += SSL_session_reused(client->ssl());
    client->Close();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["resumed"] = benchmark::Counter(
      static_cast<double>(resumed) / std::max<int64_t>(1, state.iterations()));
}
BENCHMARK_CAPTURE(BM_ConnectHandshakeEcho, plain, Mode::kPlain)->UseRealTime();
BENCHMARK_CAPTURE(BM_ConnectHandshakeEcho, tls13_full, Mode::kTls13)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ConnectHandshakeEcho, tls13_resumed, Mode::kTls13Resumed)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ConnectHandshakeEcho, tls12_full, Mode::kTls12)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ConnectHandshakeEcho, tls12_resumed, Mode::kTls12Resumed)
    ->UseRealTime();

void BM_Echo(benchmark::State& state, Mode mode) {
  const size_t block = static_cast<size_t>(state.range(0));
  EchoServer server(IsTls(mode));
  std::unique_ptr<BlockingTlsContext> ctx = ClientContext(mode);
  if (!server.ok() || ctx == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  const std::string out(block, 'x');
  std::string in(block, '\0');
  if (!IsTls(mode)) {
    const int fd = ConnectPlain(server.address());
    if (fd < 0) {
      state.SkipWithError("connect failed");
      return;
    }
    for (auto _ : state) {
      if (!tao::bench::WriteAll(fd, out.data(), out.size()) ||
          !tao::bench::ReadAll(fd, in.data(), in.size())) {
        state.SkipWithError("echo failed");
        break;
      }
    }
    ::close(fd);
  } else {
    absl::StatusOr<BlockingTlsClient> client =
        BlockingTlsClient::Connect(*ctx, server.address());
    if (!client.ok()) {
      state.SkipWithError("TLS connect failed");
      return;
    }
    for (auto _ : state) {
      absl::StatusOr<std::string> echoed;
      if (!client->WriteAll(out).ok() ||
          !(echoed = client->ReadExactly(block)).ok()) {
        state.SkipWithError("TLS echo failed");
        break;
      }
      benchmark::DoNotOptimize(echoed->data());
    }
    client->Close();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(block));
}
BENCHMARK_CAPTURE(BM_Echo, plain, Mode::kPlain)
    ->ArgName("block")
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Echo, tls13, Mode::kTls13)
    ->ArgName("block")
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Echo, tls12, Mode::kTls12)
    ->ArgName("block")
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->UseRealTime();

}  // namespace
