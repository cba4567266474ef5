// Micro benchmarks for tao::Buffer (tao/net/buffer.h).
//   bazel run --config=opt //benchmarks/micro:buffer_benchmark

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "tao/net/buffer.h"

namespace tao {
namespace {

// Append `size` bytes then consume them: the steady-state cost of moving a
// message through a buffer that already has room (no allocation).
void BM_Buffer_AppendRetrieve(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string data(size, 'x');
  Buffer buffer;
  for (auto _ : state) {
    buffer.Append(data.data(), data.size());
    benchmark::DoNotOptimize(buffer.Peek());
    buffer.Retrieve(size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Buffer_AppendRetrieve)->RangeMultiplier(4)->Range(16, 64 << 10);

// write() 16 KiB into a socketpair, then ReadFd until it is all in the buffer
// and consume it: one readv per chunk into existing space. Includes the
// write syscall.
void BM_Buffer_ReadFd(benchmark::State& state) {
  constexpr size_t kChunk = 16 << 10;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  const std::string chunk(kChunk, 'r');
  Buffer buffer;
  for (auto _ : state) {
    if (::write(sv[0], chunk.data(), chunk.size()) !=
        static_cast<ssize_t>(chunk.size())) {
      state.SkipWithError("short write");
      break;
    }
    while (buffer.readable_bytes() < kChunk) {
      absl::StatusOr<size_t> n = buffer.ReadFd(sv[1]);
      if (!n.ok() || *n == 0) {
        state.SkipWithError("ReadFd failed");
        break;
      }
    }
    benchmark::DoNotOptimize(buffer.Peek());
    buffer.RetrieveAll();
  }
  ::close(sv[0]);
  ::close(sv[1]);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kChunk));
}
BENCHMARK(BM_Buffer_ReadFd);

// Encode one frame the TLV way: append the payload, then Prepend the 8-byte
// header (int32 type, uint32 length, little-endian) into the cheap space
// without moving the payload; then consume the frame.
void BM_Buffer_PrependHeader(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string payload(size, 'p');
  Buffer buffer;
  for (auto _ : state) {
    buffer.Append(payload.data(), payload.size());
    unsigned char header[8];
    const uint32_t type = 7;
    const uint32_t length = static_cast<uint32_t>(size);
    for (int i = 0; i < 4; ++i) {
      header[i] = static_cast<unsigned char>(type >> (8 * i));
      header[4 + i] = static_cast<unsigned char>(length >> (8 * i));
    }
    buffer.Prepend(header, sizeof(header));
    benchmark::DoNotOptimize(buffer.Peek());
    buffer.RetrieveAll();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(size + 8));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Buffer_PrependHeader)->Arg(16)->Arg(256)->Arg(4096)->Arg(64 << 10);

}  // namespace
}  // namespace tao
