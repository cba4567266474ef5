#include "tao/base/freed_memory.h"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tao {
namespace {

std::atomic<size_t> g_freed_since_trim{0};

}  // namespace

void NoteLargeFree(size_t bytes) {
  g_freed_since_trim.fetch_add(bytes, std::memory_order_relaxed);
}

bool ReturnFreedMemory(size_t threshold) {
#if defined(__GLIBC__)
  if (g_freed_since_trim.load(std::memory_order_relaxed) < threshold) {
    return false;
  }
  g_freed_since_trim.store(0, std::memory_order_relaxed);
  ::malloc_trim(0);
  return true;
#else
  (void)threshold;
  return false;
#endif
}

}  // namespace tao
