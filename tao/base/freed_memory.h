// Returning memory after a burst. A connection's buffers grow for a big
// message and are given back once drained, but glibc's free() keeps what
// it gets in its heap (only the top of the heap goes back to the kernel),
// so after 10,000 connections each echoed 64 KiB the process stays at its
// peak RSS. Buffers note large frees here; a server's periodic task calls
// ReturnFreedMemory, which asks malloc to give free pages back to the
// kernel (malloc_trim) once enough was freed since it last did.
//
// Thread safety: both functions may be called from any thread.
#ifndef TAO_BASE_FREED_MEMORY_H_
#define TAO_BASE_FREED_MEMORY_H_

#include <cstddef>

namespace tao {

// Allocations at least this large are noted when freed.
inline constexpr size_t kLargeAllocation = size_t{64} << 10;

// Counts `bytes` of a freed allocation of at least kLargeAllocation.
void NoteLargeFree(size_t bytes);

// If at least `threshold` bytes were noted since the last trim, returns
// the allocator's free pages to the kernel and returns true. A no-op
// (false) where the allocator cannot (not glibc).
bool ReturnFreedMemory(size_t threshold);

}  // namespace tao

#endif  // TAO_BASE_FREED_MEMORY_H_
