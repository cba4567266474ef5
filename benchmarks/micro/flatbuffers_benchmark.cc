// Decode + dispatch of one position update, as protobuf and as FlatBuffers:
// Registry::Dispatch from "type id + payload bytes" to a handler that reads
// every field (what an inline handler pays per message before its work).
//
// BM_Dispatch_Protobuf: ParseFromArray into the per-thread reused message.
// BM_Dispatch_FlatBuffers/aligned: flatbuffers::Verifier over the payload
//   in place, then field reads from the buffer itself.
// BM_Dispatch_FlatBuffers/misaligned: the payload starts at an odd address
//   (as it may inside a read buffer), so it is first copied into the
//   per-thread aligned buffer.
// Each with a `name_bytes`-byte name, the one variable-size field.
//
//   ./bazelw run -c opt //benchmarks/micro:flatbuffers_benchmark --
//       --benchmark_min_time=0.2
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/position_update.pb.h"
#include "benchmarks/micro/position_update_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "tao/message/context.h"
#include "tao/message/flatbuffers.h"
#include "tao/message/registry.h"
#include "tao/testing/detached_connection.h"

namespace tao {
namespace {

constexpr int32_t kProtoType = 101;
constexpr int32_t kFlatBufferType =
    FlatBufferTypeId<bench::fbs::PositionUpdate>::value;

template <typename Update>
float Fields(const Update& u) {
  return static_cast<float>(u.entity() + u.seq()) + u.x() + u.y() + u.z() +
         u.heading();
}

// Dispatches `payload` as `type` until the benchmark ends.
void Run(benchmark::State& state, testing::DetachedConnection& detached,
         const Registry& registry, int32_t type, absl::string_view payload) {
  Context context(detached.connection(), detached.endpoint(), type);
  for (auto _ : state) {
    absl::Status s = registry.Dispatch(context, type, payload);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}

void BM_Dispatch_Protobuf(benchmark::State& state) {
  testing::DetachedConnection detached;
  Registry registry;
  float sink = 0;
  (void)registry.Register<bench::PositionUpdate>(
      [&](Context&, const bench::PositionUpdate& u) {
        sink += Fields(u) + static_cast<float>(u.name().size());
      });
  bench::PositionUpdate update;
  update.set_entity(123456789);
  update.set_x(1.5f);
  update.set_y(-2.25f);
  update.set_z(100.0f);
  update.set_heading(0.75f);
  update.set_seq(4242);
  update.set_name(std::string(state.range(0), 'n'));
  Run(state, detached, registry, kProtoType, update.SerializeAsString());
  benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_Dispatch_Protobuf)->ArgName("name_bytes")->Arg(8)->Arg(256);

void BM_Dispatch_FlatBuffers(benchmark::State& state, bool aligned) {
  testing::DetachedConnection detached;
  Registry registry;
  float sink = 0;
  (void)RegisterFlatBuffer<bench::fbs::PositionUpdate>(
      registry, [&](Context&, const bench::fbs::PositionUpdate& u) {
        sink += Fields(u) + static_cast<float>(u.name()->size());
      });
  flatbuffers::FlatBufferBuilder builder;
  auto name = builder.CreateString(std::string(state.range(0), 'n'));
  builder.Finish(bench::fbs::CreatePositionUpdate(
      builder, 123456789, 1.5f, -2.25f, 100.0f, 0.75f, 4242, name));
  // 8-byte aligned storage; `aligned` or one byte past it.
  std::string storage(FlatBufferBytes(builder).size() + 16, '\0');
  char* base = storage.data() +
               (8 - reinterpret_cast<uintptr_t>(storage.data()) % 8) % 8;
  char* start = aligned ? base : base + 1;
  const absl::string_view bytes = FlatBufferBytes(builder);
  std::copy(bytes.begin(), bytes.end(), start);
  Run(state, detached, registry, kFlatBufferType,
      absl::string_view(start, bytes.size()));
  benchmark::DoNotOptimize(sink);
}
BENCHMARK_CAPTURE(BM_Dispatch_FlatBuffers, aligned, true)
    ->ArgName("name_bytes")
    ->Arg(8)
    ->Arg(256);
BENCHMARK_CAPTURE(BM_Dispatch_FlatBuffers, misaligned, false)
    ->ArgName("name_bytes")
    ->Arg(8)
    ->Arg(256);

}  // namespace
}  // namespace tao
