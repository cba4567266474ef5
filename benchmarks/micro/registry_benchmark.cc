// Registry::Dispatch: the cost of one message from "type id + payload bytes"
// to the user's handler, on the calling thread (what an inline handler pays
// per message before its own work; a pooled handler pays this on a worker).
//
// BM_Registry_DispatchRaw: a raw handler (Go tao peers with hand-made
//   payloads): type lookup + std::function call, no parsing.
// BM_Registry_DispatchProto: a tao.test.Chat with a `text_bytes`-byte text:
//   lookup + parse into the per-thread reused message + handler call.
// BM_Registry_DispatchUnknown: an unregistered type (NOT_FOUND status).
// Each runs with `types` registered types, to show the lookup does not
// depend on the table size.
//
//   ./bazelw run --config=opt //benchmarks/micro:registry_benchmark --
//       --benchmark_min_time=0.2
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"
#include "codec/codec.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/registry.h"
#include "tao/net/buffer.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/event_loop.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"

namespace tao {
namespace {

constexpr int32_t kRawType = 1000;

// A connection's handler that is never called (the connection is never
// established).
class NoHandler : public ConnectionHandler {
 public:
  void OnData(Connection&, Buffer& input) override { input.RetrieveAll(); }
};

// An endpoint without connections, for the Context's endpoint().
class NoEndpoint : public Endpoint {
 public:
  ConnectionPtr Find(uint64_t) const override { return nullptr; }
  void ForEach(
      const std::function<void(const ConnectionPtr&)>&) const override {}
  size_t connection_count() const override { return 0; }
  const Codec& codec() const override { return TlvCodec::Default(); }
};

// A connection that is never established (as in registry_test): enough to
// build the Context a handler receives.
class Fixture {
 public:
  Fixture() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) {
      return;
    }
    peer_ = Socket(fds[1]);
    connection_ = std::make_shared<Connection>(
        &loop_, 7, std::make_unique<TcpTransport>(Socket(fds[0])),
        InetAddress(), InetAddress(),
        std::make_shared<const ConnectionOptions>(),
        std::make_unique<NoHandler>(), nullptr, nullptr);
  }

  bool ok() const { return connection_ != nullptr; }
  Connection& connection() { return *connection_; }
  const Endpoint& endpoint() const { return endpoint_; }
  Registry& registry() { return registry_; }

  // Registers `extra` more raw types besides Chat (1) and kRawType, so the
  // lookup table is not trivially small.
  void RegisterFillers(int extra) {
    for (int i = 0; i < extra; ++i) {
      (void)registry_.RegisterRaw(2000 + i, [](Context&, absl::string_view) {});
    }
  }

 private:
  EventLoop loop_;
  NoEndpoint endpoint_;
  Socket peer_;
  std::shared_ptr<Connection> connection_;
  Registry registry_;
};

void BM_Registry_DispatchRaw(benchmark::State& state) {
  Fixture f;
  if (!f.ok()) {
    state.SkipWithError("socketpair failed");
    return;
  }
  uint64_t seen = 0;
  (void)f.registry().RegisterRaw(
      kRawType,
      [&seen](Context&, absl::string_view payload) { seen += payload.size(); });
  f.RegisterFillers(static_cast<int>(state.range(0)));
  const std::string payload(32, 'p');
  Context context(f.connection(), f.endpoint(), kRawType);
  for (auto _ : state) {
    absl::Status s = f.registry().Dispatch(context, kRawType, payload);
    benchmark::DoNotOptimize(s);
  }
  benchmark::DoNotOptimize(seen);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(payload.size()));
}
BENCHMARK(BM_Registry_DispatchRaw)->ArgName("types")->Arg(1)->Arg(1000);

void BM_Registry_DispatchProto(benchmark::State& state) {
  Fixture f;
  if (!f.ok()) {
    state.SkipWithError("socketpair failed");
    return;
  }
  uint64_t seen = 0;
  (void)f.registry().Register<test::Chat>(
      [&seen](Context&, const test::Chat& chat) {
        seen += chat.text().size();
      });
  f.RegisterFillers(static_cast<int>(state.range(1)));
  test::Chat chat;
  chat.set_text(std::string(static_cast<size_t>(state.range(0)), 't'));
  const std::string payload = chat.SerializeAsString();
  Context context(f.connection(), f.endpoint(), 1);
  for (auto _ : state) {
    absl::Status s = f.registry().Dispatch(context, 1, payload);
    benchmark::DoNotOptimize(s);
  }
  if (seen == 0) state.SkipWithError("handler never ran");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(payload.size()));
}
BENCHMARK(BM_Registry_DispatchProto)
    ->ArgNames({"text_bytes", "types"})
    ->Args({32, 1})
    ->Args({32, 1000})
    ->Args({1024, 1});

void BM_Registry_DispatchUnknown(benchmark::State& state) {
  Fixture f;
  if (!f.ok()) {
    state.SkipWithError("socketpair failed");
    return;
  }
  f.RegisterFillers(16);
  const std::string payload(32, 'p');
  Context context(f.connection(), f.endpoint(), 42);
  for (auto _ : state) {
    absl::Status s = f.registry().Dispatch(context, 42, payload);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Registry_DispatchUnknown);

}  // namespace
}  // namespace tao
