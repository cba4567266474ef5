// OutputBudget: a byte budget shared by many connections (the server-wide cap
// on queued output), and SharedOutput: bytes that many connections queue at
// once (a broadcast), charged to the budget once rather than per recipient.
//
// Thread-safe; lock-free.
#ifndef TAO_NET_OUTPUT_BUDGET_H_
#define TAO_NET_OUTPUT_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

#include "absl/strings/cord.h"

namespace tao {

class OutputBudget;

// Bytes queued by reference on many connections. The budget that made them
// is charged their size once, from Share until the last connection has
// written (or dropped) them; a connection of that budget queues them
// without charging it again (Connection::Send(const SharedOutput&)).
class SharedOutput {
 public:
  const absl::Cord& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  // The budget charged for these bytes.
  const OutputBudget* budget() const { return budget_; }

 private:
  friend class OutputBudget;
  SharedOutput(absl::Cord bytes, const OutputBudget* budget)
      : bytes_(std::move(bytes)), budget_(budget) {}

  absl::Cord bytes_;
  const OutputBudget* budget_;
};

class OutputBudget : public std::enable_shared_from_this<OutputBudget> {
 public:
  explicit OutputBudget(size_t limit) : limit_(limit) {}
  OutputBudget(const OutputBudget&) = delete;
  OutputBudget& operator=(const OutputBudget&) = delete;

  // Takes `n` bytes if they fit; false leaves the budget unchanged.
  bool TryCharge(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used || used > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + n,
                                          std::memory_order_relaxed));
    return true;
  }
  // Takes `n` bytes even beyond the limit: for room that is being made by
  // closing the connections that hold the most (see
  // ConnectionOwner::ReclaimOutputBudget), so the excess is temporary.
  void ForceCharge(size_t n) { used_.fetch_add(n, std::memory_order_relaxed); }
  void Release(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

  // `bytes` as one SharedOutput charged to this budget (copied once into
  // memory whose release gives the charge back), or nullopt when they do
  // not fit (unless `force`). REQUIRES: held by a std::shared_ptr.
  std::optional<SharedOutput> Share(const absl::Cord& bytes,
                                    bool force = false);

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace tao

#endif  // TAO_NET_OUTPUT_BUDGET_H_
