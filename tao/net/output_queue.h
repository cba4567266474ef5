// OutputQueue: a connection's accepted-but-unsent bytes, in order.
//
// Small sends are copied into one contiguous Buffer that is reused from
// write to write, so steady-state sending allocates nothing per message.
// Large Cords (a broadcast's shared encoding) are queued by reference, not
// copied. Order is kept by one rule: while a shared Cord is queued, later
// bytes queue behind it in the Cord too; the Buffer always holds the
// oldest bytes.
//
//   [ copied_ (Buffer, oldest) ][ shared_ (Cord, newer) ]  -> socket
//
// Thread safety: not thread-safe; the owning connection's loop thread only.
#ifndef TAO_NET_OUTPUT_QUEUE_H_
#define TAO_NET_OUTPUT_QUEUE_H_

#include <sys/uio.h>

#include <cstddef>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "tao/net/buffer.h"

namespace tao {

class OutputQueue {
 public:
  // Cords up to this size are copied (cheaper than tracking the reference).
  static constexpr size_t kShareThreshold = 4096;

  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  void Append(absl::string_view bytes);
  void Append(const absl::Cord& bytes);

  size_t size() const { return copied_.readable_bytes() + shared_.size(); }
  bool empty() const { return size() == 0; }

  // Describes the front of the queue in at most `max` iovecs; returns how
  // many were filled and sets *bytes to their total length.
  int Gather(struct iovec* iov, int max, size_t* bytes) const;
  // Drops the first `n` bytes (what a write took). REQUIRES: n <= size().
  void Consume(size_t n);

  // Appends everything to `to` (in order) and leaves this queue empty,
  // keeping its copy buffer's capacity.
  void MoveTo(OutputQueue& to);

  // When empty, gives back a copy buffer larger than `retain` bytes.
  void Trim(size_t retain);
  // Drops everything and gives the memory back.
  void Clear();

 private:
  Buffer copied_{0};
  absl::Cord shared_;
};

}  // namespace tao

#endif  // TAO_NET_OUTPUT_QUEUE_H_
