// Micro benchmarks for the codecs (codec/): frame encode/decode for the TLV
// and envelope framings, protobuf message framing, and MessageTypeId.
//   ./bazelw run --config=opt //benchmarks/micro:codec_benchmark --
//       --benchmark_min_time=0.2

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "benchmark/benchmark.h"
#include "codec/codec.h"
#include "codec/envelope_codec.h"
#include "codec/frame_encoder.h"
#include "codec/message_id.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace tao {
namespace {

// AppendFrame of one `size`-byte payload into a string that already has room
// (cleared each time): header encoding plus the payload copy.
void EncodeBenchmark(benchmark::State& state, const Codec& codec) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string payload(size, 'p');
  std::string out;
  out.reserve(codec.max_header_size() + size);
  for (auto _ : state) {
    out.clear();
    absl::Status s = codec.AppendFrame(7, payload, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}

// Decode of one complete frame: finding its boundary and type; the payload
// is a view, so the cost does not depend on its size for TLV (the envelope
// codec also walks the envelope's fields, not the payload bytes).
void DecodeBenchmark(benchmark::State& state, const Codec& codec) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::string frame;
  if (!codec.AppendFrame(7, std::string(size, 'p'), &frame).ok()) {
    state.SkipWithError("encode failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    absl::StatusOr<std::optional<Frame>> decoded = codec.Decode(frame);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}

void BM_TlvCodec_Encode(benchmark::State& state) {
  EncodeBenchmark(state, TlvCodec::Default());
}
BENCHMARK(BM_TlvCodec_Encode)->Arg(32)->Arg(1 << 10)->Arg(64 << 10);

void BM_TlvCodec_Decode(benchmark::State& state) {
  DecodeBenchmark(state, TlvCodec::Default());
}
BENCHMARK(BM_TlvCodec_Decode)->Arg(32)->Arg(1 << 10)->Arg(64 << 10);

void BM_EnvelopeCodec_Encode(benchmark::State& state) {
  EncodeBenchmark(state, EnvelopeCodec::Default());
}
BENCHMARK(BM_EnvelopeCodec_Encode)->Arg(32)->Arg(1 << 10)->Arg(64 << 10);

void BM_EnvelopeCodec_Decode(benchmark::State& state) {
  DecodeBenchmark(state, EnvelopeCodec::Default());
}
BENCHMARK(BM_EnvelopeCodec_Decode)->Arg(32)->Arg(1 << 10)->Arg(64 << 10);

// Decoding a buffer of 64 back-to-back 32-byte frames, as a connection does
// after one read: per-frame cost in a tight loop.
void BM_TlvCodec_DecodeStream(benchmark::State& state) {
  constexpr int kFrames = 64;
  const Codec& codec = TlvCodec::Default();
  std::string stream;
  for (int i = 0; i < kFrames; ++i) {
    (void)codec.AppendFrame(i, std::string(32, 'p'), &stream);
  }
  for (auto _ : state) {
    absl::string_view rest = stream;
    for (int i = 0; i < kFrames; ++i) {
      absl::StatusOr<std::optional<Frame>> frame = codec.Decode(rest);
      benchmark::DoNotOptimize(frame);
      rest.remove_prefix((*frame)->size);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(stream.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kFrames);
}
BENCHMARK(BM_TlvCodec_DecodeStream);

// AppendMessageFrame of a small message (tao.test.Chat, 16-byte text) into a
// string with room: MessageTypeId + ByteSizeLong + header + serialization.
template <const Codec& (*codec)()>
void BM_AppendMessageFrame(benchmark::State& state) {
  test::Chat chat;
  chat.set_text("sixteen bytes!!!");
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    absl::Status s = AppendMessageFrame(codec(), chat, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(chat.ByteSizeLong()));
  state.SetItemsProcessed(state.iterations());
}
const Codec& Tlv() { return TlvCodec::Default(); }
const Codec& Envelope() { return EnvelopeCodec::Default(); }
BENCHMARK_TEMPLATE(BM_AppendMessageFrame, Tlv);
BENCHMARK_TEMPLATE(BM_AppendMessageFrame, Envelope);

// The same frame as a shared Cord (broadcast path): includes the string
// allocation the Cord takes over.
void BM_EncodeMessageFrame_Cord(benchmark::State& state) {
  test::Chat chat;
  chat.set_text("sixteen bytes!!!");
  for (auto _ : state) {
    absl::StatusOr<absl::Cord> cord = EncodeMessageFrame(Tlv(), chat);
    benchmark::DoNotOptimize(cord);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeMessageFrame_Cord);

// MessageTypeId on a generated descriptor (thread-local cache hit).
void BM_MessageTypeId_Generated(benchmark::State& state) {
  const google::protobuf::Descriptor* descriptor = test::Chat::descriptor();
  for (auto _ : state) {
    benchmark::DoNotOptimize(descriptor);
    absl::StatusOr<int32_t> id = MessageTypeId(*descriptor);
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageTypeId_Generated);

// MessageTypeId on a run-time pool's descriptor: never cached, so this is
// the cost of the option lookup itself.
void BM_MessageTypeId_RuntimePool(benchmark::State& state) {
  google::protobuf::DescriptorPool pool;
  for (const google::protobuf::FileDescriptor* file :
       {google::protobuf::DescriptorProto::descriptor()->file(),
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(
            "codec/proto/options.proto"),
        test::Chat::descriptor()->file()}) {
    google::protobuf::FileDescriptorProto proto;
    file->CopyTo(&proto);
    pool.BuildFile(proto);
  }
  const google::protobuf::Descriptor* descriptor =
      pool.FindMessageTypeByName("tao.test.Chat");
  if (descriptor == nullptr) {
    state.SkipWithError("no descriptor");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(descriptor);
    absl::StatusOr<int32_t> id = MessageTypeId(*descriptor);
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageTypeId_RuntimePool);

}  // namespace
}  // namespace tao
