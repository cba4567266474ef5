// Transcripts: what each member of a demo chat heard, in order; thread-safe
// (clients record from their own threads, the demo waits and prints).
#ifndef EXAMPLES_COMMON_TRANSCRIPTS_H_
#define EXAMPLES_COMMON_TRANSCRIPTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tao::examples {

class Transcripts {
 public:
  void Heard(const std::string& listener, absl::string_view line) {
    absl::MutexLock lock(&mu_);
    heard_[listener].emplace_back(line);
  }
  // Waits up to `timeout` until every listener heard `count` lines.
  bool WaitForAll(const std::vector<std::string>& listeners, size_t count,
                  absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const std::string& name : listeners) {
        if (heard_[name].size() < count) return false;
      }
      return true;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  std::map<std::string, std::vector<std::string>> Snapshot() {
    absl::MutexLock lock(&mu_);
    return heard_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::vector<std::string>> heard_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_TRANSCRIPTS_H_
