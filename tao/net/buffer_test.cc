#include "tao/net/buffer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

void ExpectInvariant(const Buffer& b) {
  EXPECT_EQ(b.prependable_bytes() + b.readable_bytes() + b.writable_bytes(),
            b.capacity() + Buffer::kCheapPrepend);
}

std::string Bytes(const Buffer& b) { return std::string(b.view()); }

TEST(BufferTest, StartsEmptyWithCheapPrepend) {
  Buffer b;
  EXPECT_EQ(b.readable_bytes(), 0u);
  EXPECT_EQ(b.writable_bytes(), Buffer::kInitialSize);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(b.capacity(), Buffer::kInitialSize);
  EXPECT_EQ(b.view(), "");
  EXPECT_EQ(b.Peek(), b.BeginWrite());
  ExpectInvariant(b);

  Buffer small(10);
  EXPECT_EQ(small.capacity(), 10u);
  EXPECT_EQ(small.writable_bytes(), 10u);
}

TEST(BufferTest, AppendRetrieve) {
  Buffer b;
  const std::string text(200, 'x');
  b.Append(text);
  EXPECT_EQ(b.readable_bytes(), text.size());
  EXPECT_EQ(b.writable_bytes(), Buffer::kInitialSize - text.size());
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  ExpectInvariant(b);

  const std::string first = b.RetrieveAsString(50);
  EXPECT_EQ(first, std::string(50, 'x'));
  EXPECT_EQ(b.readable_bytes(), 150u);
  EXPECT_EQ(b.writable_bytes(), Buffer::kInitialSize - text.size());
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend + 50);
  ExpectInvariant(b);

  b.Retrieve(10);
  EXPECT_EQ(b.readable_bytes(), 140u);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend + 60);

  EXPECT_EQ(b.RetrieveAllAsString(), std::string(140, 'x'));
  EXPECT_EQ(b.readable_bytes(), 0u);
  EXPECT_EQ(b.writable_bytes(), Buffer::kInitialSize);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  ExpectInvariant(b);
}

TEST(BufferTest, RetrieveMoreThanReadableRetrievesAll) {
  Buffer b;
  b.Append("hello");
  b.Retrieve(1);
  b.Retrieve(100);
  EXPECT_EQ(b.readable_bytes(), 0u);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  b.Append("abc");
  EXPECT_EQ(b.RetrieveAsString(10), "abc");
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
}

TEST(BufferTest, AppendPointerAndEmpty) {
  Buffer b;
  const char data[] = {'a', '\0', 'b'};
  b.Append(data, sizeof(data));
  b.Append("", 0);
  b.Append(absl::string_view());
  EXPECT_EQ(Bytes(b), std::string("a\0b", 3));
}

TEST(BufferTest, BeginWriteHasWritten) {
  Buffer b;
  b.EnsureWritable(5);
  std::memcpy(b.BeginWrite(), "hello", 5);
  b.HasWritten(5);
  EXPECT_EQ(Bytes(b), "hello");
  const Buffer& cb = b;
  EXPECT_EQ(cb.BeginWrite(), cb.Peek() + 5);
}

TEST(BufferTest, PrependUsesCheapSpace) {
  Buffer b;
  b.Append("payload");
  const uint32_t header = 7;
  b.Prepend(&header, sizeof(header));
  EXPECT_EQ(b.readable_bytes(), 11u);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend - 4);
  EXPECT_EQ(b.PeekUint32Le(), 7u);
  EXPECT_EQ(b.view().substr(4), "payload");
  b.Prepend("abcd", 4);
  EXPECT_EQ(b.prependable_bytes(), 0u);
  EXPECT_EQ(b.view().substr(0, 4), "abcd");
  ExpectInvariant(b);
  // Growth keeps prepended bytes as data and restores the cheap space.
  b.Append(std::string(2000, 'z'));
  EXPECT_EQ(b.view().substr(0, 4), "abcd");
  EXPECT_EQ(b.PeekUint32Le(4), 7u);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  ExpectInvariant(b);
}

TEST(BufferTest, GrowsWhenCompactionCannotMakeRoom) {
  Buffer b;
  b.Append(std::string(400, 'y'));
  b.Append(std::string(1000, 'z'));  // exceeds 1024
  EXPECT_EQ(b.readable_bytes(), 1400u);
  EXPECT_GE(b.capacity(), 1400u);
  EXPECT_EQ(b.capacity(), 2048u) << "geometric: doubles";
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(Bytes(b), std::string(400, 'y') + std::string(1000, 'z'));
  ExpectInvariant(b);
}

TEST(BufferTest, CompactsInsteadOfGrowingWhenConsumedSpaceSuffices) {
  Buffer b;
  b.Append(std::string(1000, 'a'));
  b.Retrieve(900);  // 100 readable at offset 908; 24 writable
  b.Append(std::string(500, 'b'));
  EXPECT_EQ(b.capacity(), Buffer::kInitialSize) << "no reallocation";
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(b.readable_bytes(), 600u);
  EXPECT_EQ(Bytes(b), std::string(100, 'a') + std::string(500, 'b'));
  ExpectInvariant(b);
}

TEST(BufferTest, GrowsRatherThanMovingMoreThanWasConsumed) {
  Buffer b;
  b.Append(std::string(1000, 'a'));
  b.Retrieve(10);  // 990 readable; compaction would move 990 to free 10
  b.Append(std::string(30, 'b'));
  EXPECT_EQ(b.capacity(), 2 * Buffer::kInitialSize);
  EXPECT_EQ(Bytes(b), std::string(990, 'a') + std::string(30, 'b'));
  ExpectInvariant(b);
}

TEST(BufferTest, NeverShrinksImplicitly) {
  Buffer b;
  b.Append(std::string(100000, 'q'));
  const size_t capacity = b.capacity();
  b.RetrieveAll();
  b.Append("x");
  EXPECT_EQ(b.capacity(), capacity);
}

TEST(BufferTest, ManyAppendsReallocateLogarithmically) {
  Buffer b(16);
  int reallocations = 0;
  const char* data = b.Peek();
  for (int i = 0; i < 100000; ++i) {
    b.Append("0123456789");
    if (b.Peek() != data) {
      ++reallocations;
      data = b.Peek();
    }
  }
  EXPECT_EQ(b.readable_bytes(), 1000000u);
  EXPECT_LE(reallocations, 20);
}

TEST(BufferTest, ShrinkReleasesMemory) {
  Buffer b;
  b.Append(std::string(100000, 's'));
  b.Retrieve(99000);
  b.Shrink(10);
  EXPECT_EQ(b.capacity(), 1010u);
  EXPECT_EQ(b.readable_bytes(), 1000u);
  EXPECT_EQ(b.writable_bytes(), 10u);
  EXPECT_EQ(b.prependable_bytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(Bytes(b), std::string(1000, 's'));
  b.Shrink(0);
  EXPECT_EQ(b.capacity(), 1000u);
  ExpectInvariant(b);
}

TEST(BufferTest, Swap) {
  Buffer a;
  Buffer b(10);
  a.Append("aaa");
  b.Append("bb");
  a.Swap(b);
  EXPECT_EQ(Bytes(a), "bb");
  EXPECT_EQ(a.capacity(), 10u);
  EXPECT_EQ(Bytes(b), "aaa");
  EXPECT_EQ(b.capacity(), Buffer::kInitialSize);
}

TEST(BufferTest, CopyIsIndependent) {
  Buffer a;
  a.Append("hello world");
  a.Retrieve(6);
  Buffer b(a);
  EXPECT_EQ(Bytes(b), "world");
  b.Append("!");
  EXPECT_EQ(Bytes(a), "world");
  Buffer c;
  c = b;
  EXPECT_EQ(Bytes(c), "world!");
  const Buffer& alias = c;
  c = alias;  // self-assignment is harmless
  EXPECT_EQ(Bytes(c), "world!");
}

TEST(BufferTest, MovedFromIsEmptyAndReusable) {
  Buffer a;
  a.Append("data");
  Buffer b(std::move(a));
  EXPECT_EQ(Bytes(b), "data");
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is documented.
  EXPECT_EQ(a.readable_bytes(), 0u);
  EXPECT_EQ(a.capacity(), 0u);
  EXPECT_EQ(a.prependable_bytes(), 0u);
  a.RetrieveAll();
  a.Append("again");
  EXPECT_EQ(Bytes(a), "again");
  ExpectInvariant(a);

  Buffer c;
  c = std::move(a);
  EXPECT_EQ(Bytes(c), "again");
  EXPECT_EQ(a.readable_bytes(), 0u);
  Buffer d(a);  // copying an empty moved-from buffer
  EXPECT_EQ(d.capacity(), 0u);
  d.Shrink(4);
  EXPECT_EQ(d.capacity(), 4u);
  // NOLINTEND(bugprone-use-after-move)
}

TEST(BufferTest, LittleEndianGoldenBytes) {
  Buffer b;
  b.AppendUint32Le(0x01020304);
  EXPECT_EQ(Bytes(b), std::string("\x04\x03\x02\x01", 4));
  b.RetrieveAll();

  b.AppendInt32Le(-2);
  EXPECT_EQ(Bytes(b), std::string("\xfe\xff\xff\xff", 4));
  b.RetrieveAll();

  b.AppendInt64Le(0x0102030405060708);
  EXPECT_EQ(Bytes(b), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  b.RetrieveAll();

  b.AppendInt64Le(-1);
  EXPECT_EQ(Bytes(b), std::string(8, '\xff'));
}

TEST(BufferTest, LittleEndianPeekRoundTrips) {
  Buffer b;
  b.Append("\x04\x03\x02\x01", 4);
  EXPECT_EQ(b.PeekUint32Le(), 0x01020304u);
  b.AppendInt32Le(INT32_MIN);
  b.AppendInt64Le(INT64_MIN);
  b.AppendInt64Le(1234567890123456789);
  b.AppendUint32Le(UINT32_MAX);
  EXPECT_EQ(b.PeekInt32Le(4), INT32_MIN);
  EXPECT_EQ(b.PeekInt64Le(8), INT64_MIN);
  EXPECT_EQ(b.PeekInt64Le(16), 1234567890123456789);
  EXPECT_EQ(b.PeekUint32Le(24), UINT32_MAX);
  EXPECT_EQ(b.PeekInt32Le(24), -1);
  EXPECT_EQ(b.readable_bytes(), 28u) << "Peek does not consume";
}

// A non-blocking pipe: [0] read end, [1] write end.
class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    CloseWriter();
    ::close(fds_[0]);
  }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void CloseWriter() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(BufferTest, ReadFdSmallRead) {
  Pipe pipe;
  ASSERT_EQ(::write(pipe.writer(), "hello", 5), 5);
  Buffer b;
  b.Append("> ");
  absl::StatusOr<size_t> n = b.ReadFd(pipe.reader());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(Bytes(b), "> hello");
  EXPECT_EQ(b.capacity(), Buffer::kInitialSize) << "fit: no allocation";
}

TEST(BufferTest, ReadFdEagainOnEmptyNonBlockingPipe) {
  Pipe pipe;
  Buffer b;
  absl::StatusOr<size_t> n = b.ReadFd(pipe.reader());
  EXPECT_TRUE(absl::IsUnavailable(n.status())) << n.status();
  EXPECT_EQ(b.readable_bytes(), 0u);
}

TEST(BufferTest, ReadFdEof) {
  Pipe pipe;
  pipe.CloseWriter();
  Buffer b;
  absl::StatusOr<size_t> n = b.ReadFd(pipe.reader());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
}

TEST(BufferTest, ReadFdErrorOnBadFd) {
  Buffer b;
  absl::StatusOr<size_t> n = b.ReadFd(-1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "read: Bad file descriptor");
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

TEST(BufferTest, ReadFdSpillsBeyondWritableSpace) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  const int bufsize = 512 * 1024;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
  ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
  const std::string data = Pattern(200 * 1024);
  // A writer thread (blocking) so the test does not depend on kernel buffer
  // sizes; the reader polls with ReadFd until EOF.
  std::thread writer([&] {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::write(sv[0], data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
    ::close(sv[0]);
  });
  Buffer b(100);  // tiny: every big read goes through the spill area
  size_t reads = 0;
  size_t max_read = 0;
  while (true) {
    absl::StatusOr<size_t> n = b.ReadFd(sv[1]);  // blocking socket
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    ++reads;
    max_read = std::max(max_read, *n);
  }
  writer.join();
  ::close(sv[1]);
  EXPECT_EQ(b.readable_bytes(), data.size());
  EXPECT_TRUE(Bytes(b) == data) << "reassembled exactly";
  EXPECT_GT(max_read, 100u) << "a read went past the writable space";
  ExpectInvariant(b);
  EXPECT_GE(reads, 1u);
}

TEST(BufferTest, ReadFdRepeatedReadsWithConsumerReassembleExactly) {
  Pipe pipe;
  const std::string data = Pattern(200 * 1024);
  std::string received;
  Buffer b(64);
  size_t off = 0;
  // Fill the pipe as far as it goes, drain with ReadFd while consuming part
  // of the buffer each time, until everything arrived.
  while (received.size() + b.readable_bytes() < data.size()) {
    if (off < data.size()) {
      const ssize_t n = ::write(pipe.writer(), data.data() + off,
                                std::min<size_t>(data.size() - off, 96 * 1024));
      if (n > 0) off += static_cast<size_t>(n);
      if (n < 0) {
        ASSERT_EQ(errno, EAGAIN);
      }
    }
    absl::StatusOr<size_t> n = b.ReadFd(pipe.reader());
    if (!n.ok()) {
      ASSERT_TRUE(absl::IsUnavailable(n.status())) << n.status();
      continue;
    }
    ASSERT_GT(*n, 0u);
    received += b.RetrieveAsString(b.readable_bytes() / 2 + 1);
    ExpectInvariant(b);
  }
  received += b.RetrieveAllAsString();
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

}  // namespace
}  // namespace tao

namespace tao {
namespace {

TEST(BufferLazyTest, ZeroInitialSizeAllocatesNothingUntilWritten) {
  Buffer buffer(0);
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_EQ(buffer.readable_bytes(), 0u);
  buffer.Append("hello");
  EXPECT_EQ(buffer.view(), "hello");
  EXPECT_GE(buffer.capacity(), 5u);
  buffer.Prepend("<", 1);  // room for a header appears with the allocation
  EXPECT_EQ(buffer.view(), "<hello");
}

TEST(BufferLazyTest, ReleaseMemoryThenReuse) {
  Buffer buffer;
  buffer.Append(std::string(10000, 'x'));
  buffer.RetrieveAll();
  buffer.ReleaseMemory();
  EXPECT_EQ(buffer.capacity(), 0u);
  buffer.AppendUint32Le(7);
  EXPECT_EQ(buffer.PeekUint32Le(), 7u);
}

}  // namespace
}  // namespace tao
