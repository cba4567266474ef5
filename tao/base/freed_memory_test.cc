#include "tao/base/freed_memory.h"

#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(FreedMemoryTest, TrimsOnlyOnceEnoughWasFreed) {
  (void)ReturnFreedMemory(0);  // whatever other code noted before
  NoteLargeFree(kLargeAllocation);
  EXPECT_FALSE(ReturnFreedMemory(2 * kLargeAllocation));
#if defined(__GLIBC__)
  NoteLargeFree(kLargeAllocation);
  EXPECT_TRUE(ReturnFreedMemory(2 * kLargeAllocation));
  // The count starts again from zero.
  EXPECT_FALSE(ReturnFreedMemory(1));
#endif
}

}  // namespace
}  // namespace tao
