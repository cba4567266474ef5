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
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"
#include "codec/proto/test_messages.pb.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/registry.h"
#include "tao/net/connection.h"
#include "tao/testing/detached_connection.h"

namespace tao {
namespace {

constexpr int32_t kRawType = 1000;

// A Registry and a never-established connection for its Contexts.
class Fixture {
 public:
  bool ok() const { return detached_.ok(); }
  Connection& connection() { return detached_.connection(); }
  const Endpoint& endpoint() const { return detached_.endpoint(); }
  Registry& registry() { return registry_; }

  // Registers `extra` more raw types besides Chat (1) and kRawType, so the
  // lookup table is not trivially small.
  void RegisterFillers(int extra) {
    for (int i = 0; i < extra; ++i) {
      (void)registry_.RegisterRaw(2000 + i, [](Context&, absl::string_view) {});
    }
  }

 private:
  testing::DetachedConnection detached_;
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
