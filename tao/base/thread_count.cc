#include "tao/base/thread_count.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tao {

absl::StatusOr<int> ResolveThreadCount(int requested,
                                       absl::string_view option) {
  if (requested >= 0) return requested;
  if (requested == kOneThreadPerCore) {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware > 0 ? static_cast<int>(hardware) : 1;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(option, " = ", requested,
                   ": a thread count is N > 0, 0 (none) or "
                   "kOneThreadPerCore (-1)"));
}

absl::StatusOr<int> ResolvePositiveThreadCount(int requested,
                                               absl::string_view option) {
  absl::StatusOr<int> threads = ResolveThreadCount(requested, option);
  if (threads.ok() && *threads == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, " = 0: at least one thread is needed (or kOneThreadPerCore)"));
  }
  return threads;
}

}  // namespace tao
