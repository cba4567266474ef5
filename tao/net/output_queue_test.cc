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
