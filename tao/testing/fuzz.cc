#include "tao/testing/fuzz.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

namespace tao {
namespace testing {

void FuzzCheckFailed(const char* file, int line, const char* condition,
                     absl::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s: %.*s\n", file, line,
               condition, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

uint64_t Fnv1a(absl::string_view data) {
  uint64_t hash = 0xcbf29ce484222325u;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3u;
  }
  return hash;
}

size_t ChunkSplitter::Next(size_t remaining) {
  // xorshift64: cheap, and every seed gives a different split.
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  const size_t n = 1 + static_cast<size_t>(state_ % max_chunk_);
  return n < remaining ? n : remaining;
}

}  // namespace testing
}  // namespace tao
