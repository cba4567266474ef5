#include "tao/net/buffer.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "tao/base/freed_memory.h"

namespace tao {
namespace {
constexpr absl::string_view kWouldBlockMessage = "read: would block";

// A burst's big allocations, counted so a server can return them to the
// kernel (tao/base/freed_memory.h).
void NoteFreed(size_t size) {
  if (size >= kLargeAllocation) NoteLargeFree(size);
}
}  // namespace

Buffer::Buffer(size_t initial_size)
    : data_(initial_size == 0 ? nullptr
                              : new char[kCheapPrepend + initial_size]),
      size_(initial_size == 0 ? 0 : kCheapPrepend + initial_size),
      reader_(initial_size == 0 ? 0 : kCheapPrepend),
      writer_(reader_) {
  CheckInvariant();
}

bool IsWouldBlock(const absl::Status& status) {
  return absl::IsUnavailable(status) && status.message() == kWouldBlockMessage;
}

void Buffer::ReleaseMemory() {
  TAO_DCHECK(readable_bytes() == 0);
  NoteFreed(size_);
  data_.reset();
  size_ = reader_ = writer_ = 0;
}

Buffer::~Buffer() { NoteFreed(size_); }

Buffer::Buffer(const Buffer& other)
    : data_(other.size_ == 0 ? nullptr : new char[other.size_]),
      size_(other.size_),
      reader_(other.reader_),
      writer_(other.writer_) {
  if (readable_bytes() > 0) {
    std::memcpy(data_.get() + reader_, other.Peek(), readable_bytes());
  }
  CheckInvariant();
}

Buffer& Buffer::operator=(const Buffer& other) {
  if (this != &other) {
    Buffer copy(other);
    Swap(copy);
  }
  return *this;
}

Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::move(other.data_)),
      size_(std::exchange(other.size_, 0)),
      reader_(std::exchange(other.reader_, 0)),
      writer_(std::exchange(other.writer_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    NoteFreed(size_);
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    reader_ = std::exchange(other.reader_, 0);
    writer_ = std::exchange(other.writer_, 0);
  }
  return *this;
}

void Buffer::Swap(Buffer& other) noexcept {
  using std::swap;
  swap(data_, other.data_);
  swap(size_, other.size_);
  swap(reader_, other.reader_);
  swap(writer_, other.writer_);
}

std::string Buffer::RetrieveAsString(size_t n) {
  n = std::min(n, readable_bytes());
  std::string result(Peek(), n);
  Retrieve(n);
  return result;
}

void Buffer::Shrink(size_t reserve) { Reallocate(readable_bytes() + reserve); }

void Buffer::MakeSpace(size_t n) {
  const size_t readable = readable_bytes();
  // Consumed bytes in front of the data that compaction would give back.
  const size_t reclaimable =
      reader_ > kCheapPrepend ? reader_ - kCheapPrepend : 0;
  // Compact only when it frees enough room and moves no more bytes than were
  // consumed since the last compaction, so its cost is amortized against
  // Retrieve calls (a nearly full buffer that trickles would otherwise move
  // all its data on every small append).
  if (writable_bytes() + reclaimable >= n && readable <= reclaimable) {
    std::memmove(data_.get() + kCheapPrepend, Peek(), readable);
    reader_ = kCheapPrepend;
    writer_ = kCheapPrepend + readable;
  } else {
    Reallocate(std::max(capacity() * 2, readable + n));
  }
  CheckInvariant();
}

void Buffer::Reallocate(size_t new_capacity) {
  const size_t readable = readable_bytes();
  TAO_DCHECK(new_capacity >= readable);
  std::unique_ptr<char[]> fresh(new char[kCheapPrepend + new_capacity]);
  if (readable > 0) std::memcpy(fresh.get() + kCheapPrepend, Peek(), readable);
  NoteFreed(size_);
  data_ = std::move(fresh);
  size_ = kCheapPrepend + new_capacity;
  reader_ = kCheapPrepend;
  writer_ = kCheapPrepend + readable;
  CheckInvariant();
}

absl::StatusOr<size_t> Buffer::ReadFd(int fd) {
  // Spill area for when the peer sent more than fits: one readv takes up to
  // writable + 64 KiB, and only a spill costs an Append (and maybe growth).
  char spill[64 * 1024];
  const size_t writable = writable_bytes();
  struct iovec vec[2];
  vec[0].iov_base = BeginWrite();
  vec[0].iov_len = writable;
  vec[1].iov_base = spill;
  vec[1].iov_len = sizeof(spill);
  // With 64 KiB or more of room already, read into the buffer alone.
  const int iovcnt = writable < sizeof(spill) ? 2 : 1;
  const ssize_t n = ::readv(fd, vec, iovcnt);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return absl::UnavailableError(kWouldBlockMessage);
    }
    // A reset is UNAVAILABLE too, but never IsWouldBlock.
    return absl::ErrnoToStatus(errno, "read");
  }
  const size_t got = static_cast<size_t>(n);
  if (got <= writable) {
    writer_ += got;
  } else {
    writer_ = size_;
    Append(spill, got - writable);
  }
  CheckInvariant();
  return got;
}

}  // namespace tao
