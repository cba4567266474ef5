#include "tao/net/output_queue.h"

#include <algorithm>

#include "tao/base/logging.h"

namespace tao {

void OutputQueue::Append(absl::string_view bytes) {
  if (shared_.empty()) {
    copied_.Append(bytes);
  } else {
    shared_.Append(bytes);
  }
}

void OutputQueue::Append(const absl::Cord& bytes) {
  if (!shared_.empty() || bytes.size() > kShareThreshold) {
    shared_.Append(bytes);
    return;
  }
  for (absl::string_view chunk : bytes.Chunks()) copied_.Append(chunk);
}

void OutputQueue::MoveTo(OutputQueue& to) {
  if (copied_.readable_bytes() > 0) {
    to.Append(copied_.view());
    copied_.RetrieveAll();
  }
  if (!shared_.empty()) {
    to.Append(shared_);  // by reference when large
    shared_.Clear();
  }
}

int OutputQueue::Gather(struct iovec* iov, int max, size_t* bytes) const {
  int count = 0;
  *bytes = 0;
  if (max <= 0) return 0;
  if (copied_.readable_bytes() > 0) {
    iov[count].iov_base = const_cast<char*>(copied_.Peek());
    iov[count].iov_len = copied_.readable_bytes();
    *bytes += iov[count].iov_len;
    ++count;
  }
  for (absl::string_view chunk : shared_.Chunks()) {
    if (count == max) break;
    iov[count].iov_base = const_cast<char*>(chunk.data());
    iov[count].iov_len = chunk.size();
    *bytes += chunk.size();
    ++count;
  }
  return count;
}

void OutputQueue::Consume(size_t n) {
  TAO_DCHECK(n <= size());
  const size_t from_copied = std::min(n, copied_.readable_bytes());
  copied_.Retrieve(from_copied);
  if (n > from_copied) shared_.RemovePrefix(n - from_copied);
}

void OutputQueue::Trim(size_t retain) {
  if (empty() && copied_.capacity() > retain) copied_.ReleaseMemory();
}

void OutputQueue::Clear() {
  copied_.RetrieveAll();
  copied_.ReleaseMemory();
  shared_.Clear();
}

}  // namespace tao
