// Helpers for tao's fuzz targets (tao_fuzz_test, //tao/build_defs:cc.bzl):
// an invariant check that aborts (libFuzzer reports an abort as a crash and
// keeps the input), and a deterministic splitter that feeds a parser its
// bytes in pieces, as a socket might deliver them.
//
//   TAO_FUZZ_CHECK(frame.size <= input.size(), absl::StrCat(frame.size));
//   ChunkSplitter split(Fnv1a(input), /*max_chunk=*/64);
//   while (!rest.empty()) { size_t n = split.Next(rest.size()); ... }
//
// Thread safety: ChunkSplitter belongs to one thread; the rest is pure.
#ifndef TAO_TESTING_FUZZ_H_
#define TAO_TESTING_FUZZ_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

// Aborts with the condition, `detail` and the location unless `condition`.
#define TAO_FUZZ_CHECK(condition, detail)                             \
  do {                                                                \
    if (!(condition)) {                                               \
      ::tao::testing::FuzzCheckFailed(__FILE__, __LINE__, #condition, \
                                      (detail));                      \
    }                                                                 \
  } while (false)

namespace tao {
namespace testing {

[[noreturn]] void FuzzCheckFailed(const char* file, int line,
                                  const char* condition,
                                  absl::string_view detail);

// 64-bit FNV-1a of `data`: a seed that changes with every mutation.
uint64_t Fnv1a(absl::string_view data);

// Piece sizes in [1, max_chunk], a pure function of the seed.
class ChunkSplitter {
 public:
  ChunkSplitter(uint64_t seed, size_t max_chunk)
      : state_(seed | 1), max_chunk_(max_chunk == 0 ? 1 : max_chunk) {}

  // The next piece's size, at most `remaining` (which must be > 0).
  size_t Next(size_t remaining);

 private:
  uint64_t state_;
  const size_t max_chunk_;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_FUZZ_H_
