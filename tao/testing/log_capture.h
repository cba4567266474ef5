// Test-only: captures what tao logs, for tests that bound the log volume a
// remote peer can cause.
//
//   tao::testing::LogCapture log;  // sink + a frozen log clock
//   ... 100,000 bad frames ...
//   EXPECT_LE(log.lines(), tao::kLogRateBurst);
//   log.Advance(tao::kLogRateInterval);  // a fresh rate-limit window
//
// While it lives, every record goes to it (not to stderr), and rate limits
// (TAO_LOG_RATE_LIMITED) read its FakeClock, which starts days past the
// real monotonic clock (one more for each LogCapture) so that its windows
// are newer than any a previous test spent. Lines and bytes are counted as the
// default sink would write them (the message plus a fixed estimate of the
// glog-style prefix).
//
// Thread safety: the sink runs on any thread; the accessors too.
#ifndef TAO_TESTING_LOG_CAPTURE_H_
#define TAO_TESTING_LOG_CAPTURE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/base/clock.h"
#include "tao/base/logging.h"

namespace tao {
namespace testing {

class LogCapture {
 public:
  // "W20261127 08:31:24.123456 12345 file.cc:42] ": the default sink's
  // prefix, about this long.
  static constexpr size_t kPrefixBytes = 48;
  // Messages kept for inspection (the first ones); the rest only counted.
  static constexpr size_t kKept = 1000;

  LogCapture() {
    static std::atomic<int> captures{0};
    clock_.AdvanceTo(AddDuration(std::chrono::steady_clock::now(),
                                 absl::Hours(24) * ++captures));
    SetLogClock(&clock_);
    SetLogSink([this](const LogRecord& r) {
      absl::MutexLock lock(&mu_);
      ++lines_;
      bytes_ += kPrefixBytes + r.message.size() + 1;
      if (messages_.size() < kKept) messages_.emplace_back(r.message);
    });
  }
  ~LogCapture() {
    SetLogSink(nullptr);
    SetLogClock(nullptr);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Moves the log clock forward, into later rate-limit windows.
  void Advance(absl::Duration d) { clock_.Advance(d); }

  size_t lines() const {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  size_t bytes() const {
    absl::MutexLock lock(&mu_);
    return bytes_;
  }
  std::vector<std::string> messages() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  FakeClock clock_;
  mutable absl::Mutex mu_;
  size_t lines_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_LOG_CAPTURE_H_
