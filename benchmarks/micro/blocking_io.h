// Blocking whole-buffer socket I/O for benchmark clients (not for tao code:
// the framework never blocks).
#ifndef BENCHMARKS_MICRO_BLOCKING_IO_H_
#define BENCHMARKS_MICRO_BLOCKING_IO_H_

#include <unistd.h>

#include <cstddef>

namespace tao::bench {

// Writes all `n` bytes; false on error or a closed peer.
inline bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly `n` bytes; false on error or EOF first.
inline bool ReadAll(int fd, char* data, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, data, n);
    if (r <= 0) return false;
    data += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace tao::bench

#endif  // BENCHMARKS_MICRO_BLOCKING_IO_H_
