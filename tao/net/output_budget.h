// OutputBudget: a byte budget shared by many connections (the server-wide cap
// on queued output). Thread-safe; lock-free.
#ifndef TAO_NET_OUTPUT_BUDGET_H_
#define TAO_NET_OUTPUT_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace tao {

class OutputBudget {
 public:
  explicit OutputBudget(size_t limit) : limit_(limit) {}
  OutputBudget(const OutputBudget&) = delete;
  OutputBudget& operator=(const OutputBudget&) = delete;

  // Takes `n` bytes if they fit; false leaves the budget unchanged.
  bool TryCharge(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n,
                                          std::memory_order_relaxed));
    return true;
  }
  void Release(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace tao

#endif  // TAO_NET_OUTPUT_BUDGET_H_
