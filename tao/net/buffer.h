// Buffer: a growable byte buffer for a connection's input and output, after
// muduo's Buffer. Bytes are appended at the back and consumed at the front;
// cheap space before the data lets a codec prepend a frame header without
// copying the payload.
//
//   Buffer out;
//   out.Append(payload);
//   out.Prepend(&header, sizeof(header));   // fits in kCheapPrepend
//   ...write(fd, out.Peek(), out.readable_bytes()) -> n...
//   out.Retrieve(n);
//
//   absl::StatusOr<size_t> n = in.ReadFd(fd);   // one readv, see below
//
// Layout and invariant (asserted in debug builds after every mutation):
//
/// +-------------------+------------------+------------------+
/// | prependable bytes |  readable bytes  |  writable bytes  |
/// |                   |     (CONTENT)    |                  |
/// +-------------------+------------------+------------------+
/// |                   |                  |                  |
/// 0      <=      reader_index   <=   writer_index    <=     size
//
// `size` is the allocation: kCheapPrepend + capacity(). Growth is geometric
// (amortized O(1) per appended byte) and memory is never released implicitly;
// call Shrink() for that. Freeing an allocation of kLargeAllocation or more
// is noted (tao/base/freed_memory.h), so a server can hand it back to the
// kernel after a burst.
//
// Not thread-safe: a Buffer belongs to one thread (a connection's buffers to
// its loop thread). Copyable and movable; a moved-from Buffer is empty, has
// capacity() 0, and is usable again.

#ifndef TAO_NET_BUFFER_H_
#define TAO_NET_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/base/logging.h"

namespace tao {

class Buffer {
 public:
  static constexpr size_t kCheapPrepend = 8;
  static constexpr size_t kInitialSize = 1024;

  // capacity() == initial_size; prependable_bytes() == kCheapPrepend.
  // initial_size 0 allocates nothing until the first write (what an idle
  // connection wants).
  explicit Buffer(size_t initial_size = kInitialSize);

  Buffer(const Buffer& other);
  Buffer& operator=(const Buffer& other);
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  ~Buffer();

  size_t readable_bytes() const { return writer_ - reader_; }
  size_t writable_bytes() const { return size_ - writer_; }
  size_t prependable_bytes() const { return reader_; }
  // Bytes available to readable + writable data once the front is compacted:
  // the allocation minus kCheapPrepend.
  size_t capacity() const { return size_ == 0 ? 0 : size_ - kCheapPrepend; }

  // Gives the memory back (capacity() becomes 0; the next write allocates).
  // REQUIRES: readable_bytes() == 0.
  void ReleaseMemory();

  // Start of the readable bytes.
  const char* Peek() const { return data_.get() + reader_; }
  // The readable bytes; invalidated by any mutation.
  absl::string_view view() const {
    return absl::string_view(Peek(), readable_bytes());
  }

  // Start of the writable bytes: write into it, then HasWritten(n).
  char* BeginWrite() { return data_.get() + writer_; }
  const char* BeginWrite() const { return data_.get() + writer_; }
  // REQUIRES: n <= writable_bytes().
  void HasWritten(size_t n) {
    TAO_DCHECK(n <= writable_bytes()) << n << " > " << writable_bytes();
    writer_ += n;
  }

  // Makes writable_bytes() >= n: compacts (moves the readable bytes to the
  // front) when that frees enough room cheaply, else grows geometrically.
  void EnsureWritable(size_t n) {
    if (writable_bytes() < n) MakeSpace(n);
    TAO_DCHECK(writable_bytes() >= n);
  }

  void Append(absl::string_view data) { Append(data.data(), data.size()); }
  void Append(const void* data, size_t n) {
    EnsureWritable(n);
    if (n > 0) std::memcpy(BeginWrite(), data, n);
    writer_ += n;
  }

  // Puts `n` bytes in front of the readable bytes.
  // REQUIRES: n <= prependable_bytes().
  void Prepend(const void* data, size_t n) {
    TAO_DCHECK(n <= prependable_bytes()) << n << " > " << prependable_bytes();
    reader_ -= n;
    if (n > 0) std::memcpy(data_.get() + reader_, data, n);
  }

  // Consumes n bytes; n >= readable_bytes() consumes everything.
  void Retrieve(size_t n) {
    if (n < readable_bytes()) {
      reader_ += n;
    } else {
      RetrieveAll();
    }
  }
  // Consumes everything and resets the indices to kCheapPrepend.
  void RetrieveAll() { reader_ = writer_ = size_ == 0 ? 0 : kCheapPrepend; }
  // Consumes min(n, readable_bytes()) bytes and returns them.
  std::string RetrieveAsString(size_t n);
  std::string RetrieveAllAsString() {
    return RetrieveAsString(readable_bytes());
  }

  // Releases memory: afterwards capacity() == readable_bytes() + reserve.
  void Shrink(size_t reserve);

  void Swap(Buffer& other) noexcept;

  // Little-endian fixed-width integers (tao's wire format is little-endian).
  void AppendUint32Le(uint32_t v) {
    const char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
                           static_cast<char>(v >> 16),
                           static_cast<char>(v >> 24)};
    Append(bytes, sizeof(bytes));
  }
  void AppendInt32Le(int32_t v) { AppendUint32Le(static_cast<uint32_t>(v)); }
  void AppendInt64Le(int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    AppendUint32Le(static_cast<uint32_t>(u));
    AppendUint32Le(static_cast<uint32_t>(u >> 32));
  }
  // REQUIRES: offset + width <= readable_bytes().
  uint32_t PeekUint32Le(size_t offset = 0) const {
    TAO_DCHECK(offset + 4 <= readable_bytes()) << offset;
    const auto* p = reinterpret_cast<const unsigned char*>(Peek() + offset);
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
  }
  int32_t PeekInt32Le(size_t offset = 0) const {
    return static_cast<int32_t>(PeekUint32Le(offset));
  }
  int64_t PeekInt64Le(size_t offset = 0) const {
    TAO_DCHECK(offset + 8 <= readable_bytes()) << offset;
    const uint64_t lo = PeekUint32Le(offset);
    const uint64_t hi = PeekUint32Le(offset + 4);
    return static_cast<int64_t>(lo | hi << 32);
  }

  // Reads once from `fd` with readv into the writable space plus a 64 KiB
  // stack spill area, so one syscall suffices and nothing is allocated when
  // the buffer already has room. Returns the bytes read (0: EOF).
  // Nothing to read now (EAGAIN, EWOULDBLOCK, EINTR): an UNAVAILABLE status
  // for which IsWouldBlock() is true. Other errors: ErrnoToStatus(errno,
  // "read") (a reset is UNAVAILABLE too, but not IsWouldBlock).
  absl::StatusOr<size_t> ReadFd(int fd);

 private:
  void MakeSpace(size_t n);
  // Replaces the allocation with one of kCheapPrepend + new_capacity bytes
  // holding the readable bytes at kCheapPrepend.
  void Reallocate(size_t new_capacity);
  void CheckInvariant() const {
    TAO_DCHECK(reader_ <= writer_ && writer_ <= size_)
        << reader_ << " " << writer_ << " " << size_;
  }

  std::unique_ptr<char[]> data_;
  size_t size_;    // allocated bytes; 0 when empty-handed (moved from,
                   // released, or constructed with initial_size 0)
  size_t reader_;  // reader_index
  size_t writer_;  // writer_index
};

// True for the status Buffer::ReadFd returns when nothing can be read now
// (EAGAIN, EWOULDBLOCK, EINTR). A connection reset is UNAVAILABLE as well
// but is not "would block".
bool IsWouldBlock(const absl::Status& status);

}  // namespace tao

#endif  // TAO_NET_BUFFER_H_
