#include "tao/net/output_queue.h"

#include <sys/uio.h>

#include <string>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

// Drains the queue `step` bytes at a time, as short writes would.
std::string Drain(OutputQueue& queue, size_t step) {
  std::string out;
  while (!queue.empty()) {
    struct iovec iov[8];
    size_t bytes = 0;
    const int count = queue.Gather(iov, 8, &bytes);
    std::string front;
    for (int i = 0; i < count; ++i) {
      front.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    }
    EXPECT_EQ(front.size(), bytes);
    const size_t taken = std::min(step, bytes);
    out += front.substr(0, taken);
    queue.Consume(taken);
  }
  return out;
}

TEST(OutputQueueTest, KeepsOrderAcrossCopiedAndSharedBytes) {
  OutputQueue queue;
  const std::string big(OutputQueue::kShareThreshold + 1, 'B');
  queue.Append("a1");
  queue.Append(absl::Cord("c2"));  // small: copied
  queue.Append(absl::Cord(big));   // large: shared
  queue.Append("a3");              // behind the shared cord
  queue.Append(absl::Cord("c4"));
  const std::string expected = "a1c2" + big + "a3c4";
  EXPECT_EQ(queue.size(), expected.size());
  for (size_t step : {1u, 3u, 7u, 1000u, 100000u}) {
    OutputQueue copy;
    copy.Append("a1");
    copy.Append(absl::Cord("c2"));
    copy.Append(absl::Cord(big));
    copy.Append("a3");
    copy.Append(absl::Cord("c4"));
    EXPECT_EQ(Drain(copy, step), expected) << step;
  }
  EXPECT_EQ(Drain(queue, 5), expected);
  // Once drained, small sends go to the reused buffer again.
  queue.Append("x");
  EXPECT_EQ(Drain(queue, 1), "x");
}

TEST(OutputQueueTest, MoveToAppendsInOrderAndKeepsTheBuffer) {
  const std::string big(OutputQueue::kShareThreshold + 1, 'B');
  // Into an empty queue, and behind a queue that holds a shared cord.
  for (bool to_has_shared : {false, true}) {
    OutputQueue from;
    from.Append("f1");
    from.Append(absl::Cord(big));
    from.Append("f2");
    OutputQueue to;
    to.Append("t1");
    if (to_has_shared) to.Append(absl::Cord(big));
    const std::string expected =
        std::string("t1") + (to_has_shared ? big : "") + "f1" + big + "f2";
    from.MoveTo(to);
    EXPECT_TRUE(from.empty());
    EXPECT_EQ(to.size(), expected.size());
    EXPECT_EQ(Drain(to, 7), expected) << to_has_shared;
  }
  // Small bytes only: the source keeps its buffer for the next sends.
  OutputQueue from;
  OutputQueue to;
  from.Append(std::string(100, 'x'));
  const void* buffer = nullptr;
  {
    struct iovec iov[1];
    size_t bytes = 0;
    ASSERT_EQ(from.Gather(iov, 1, &bytes), 1);
    buffer = iov[0].iov_base;
  }
  from.MoveTo(to);
  from.Append("y");
  struct iovec iov[1];
  size_t bytes = 0;
  ASSERT_EQ(from.Gather(iov, 1, &bytes), 1);
  EXPECT_EQ(bytes, 1u);
  EXPECT_EQ(iov[0].iov_base, buffer) << "the copy buffer was not reused";
  EXPECT_EQ(Drain(to, 1000), std::string(100, 'x'));
}

TEST(OutputQueueTest, GatherRespectsTheIovecLimit) {
  OutputQueue queue;
  absl::Cord many;
  for (int i = 0; i < 50; ++i) {
    many.Append(absl::Cord(std::string(OutputQueue::kShareThreshold + 1,
                                       static_cast<char>('a' + i % 26))));
  }
  queue.Append(many);
  struct iovec iov[4];
  size_t bytes = 0;
  EXPECT_LE(queue.Gather(iov, 4, &bytes), 4);
  EXPECT_LE(bytes, queue.size());
}

TEST(OutputQueueTest, TrimAndClearGiveMemoryBack) {
  OutputQueue queue;
  queue.Append(std::string(100000, 'z'));
  queue.Trim(0);  // not empty: kept
  EXPECT_EQ(queue.size(), 100000u);
  queue.Consume(100000);
  queue.Trim(1024);
  queue.Append("again");
  EXPECT_EQ(Drain(queue, 2), "again");
  queue.Append(absl::Cord(std::string(10000, 'q')));
  queue.Clear();
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace tao
