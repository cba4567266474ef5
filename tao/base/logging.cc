#include "tao/base/logging.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tao/base/clock.h"

namespace tao {
namespace {

ABSL_CONST_INIT absl::Mutex sink_mu(absl::kConstInit);
// The installed sink; nullptr means the default stderr sink. Sinks run under
// a reader lock, so SetLogSink (writer) waits for calls in flight.
LogSink* sink ABSL_GUARDED_BY(sink_mu) = nullptr;

// SetLogClock's clock; nullptr means the steady clock (Clock::Real()).
std::atomic<const Clock*> log_clock{nullptr};

// strerror_r has a GNU (char*) and an XSI (int) flavour; accept both.
[[maybe_unused]] const char* StrErrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "Unknown error";
}
[[maybe_unused]] const char* StrErrorResult(const char* result, const char*) {
  return result;
}

std::string StrError(int errnum) {
  char buf[128];
  return StrErrorResult(strerror_r(errnum, buf, sizeof(buf)), buf);
}

// "I20261127 08:31:24.123456 12345 file.cc:42] message\n" (glog's layout).
std::string FormatRecord(const LogRecord& r) {
  static thread_local const long tid = syscall(SYS_gettid);
  absl::string_view file = r.file;
  if (size_t slash = file.rfind('/'); slash != absl::string_view::npos) {
    file.remove_prefix(slash + 1);
  }
  return absl::StrCat(
      LogSeverityName(r.severity).substr(0, 1),
      absl::FormatTime("%Y%m%d %H:%M:%E6S", r.time, absl::LocalTimeZone()), " ",
      tid, " ", file, ":", r.line, "] ", r.message, "\n");
}

void WriteToStderr(const LogRecord& r) {
  std::string line = FormatRecord(r);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void SetLogSink(LogSink new_sink) {
  LogSink* old = nullptr;
  {
    absl::MutexLock lock(&sink_mu);
    old = sink;
    sink = new_sink ? new LogSink(std::move(new_sink)) : nullptr;
  }
  delete old;
}

void SetMinLogSeverity(LogSeverity s) {
  logging_internal::min_severity.store(static_cast<int>(s),
                                       std::memory_order_relaxed);
}

LogSeverity MinLogSeverity() {
  return static_cast<LogSeverity>(
      logging_internal::min_severity.load(std::memory_order_relaxed));
}

void SetLogClock(const Clock* clock) {
  log_clock.store(clock, std::memory_order_release);
}

absl::string_view LogSeverityName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kDebug:
      return "DEBUG";
    case LogSeverity::kInfo:
      return "INFO";
    case LogSeverity::kWarning:
      return "WARNING";
    case LogSeverity::kError:
      return "ERROR";
    case LogSeverity::kFatal:
      return "FATAL";
  }
  return "UNKNOWN";
}

namespace logging_internal {

LogRateLimiter::LogRateLimiter(absl::Duration interval, int burst)
    : interval_nanos_(
          std::max<int64_t>(absl::ToInt64Nanoseconds(interval), 1'000'000)),
      burst_(static_cast<uint64_t>(std::clamp(burst, 1, kMaxBurst))) {}

bool LogRateLimiter::AllowAt(int64_t now_nanos) {
  constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
  const uint64_t window =
      static_cast<uint64_t>(std::max<int64_t>(now_nanos, 0) / interval_nanos_);
  uint64_t state = state_.load(std::memory_order_relaxed);
  while (true) {
    uint64_t next;
    if (window > (state >> kCountBits)) {
      next = (window << kCountBits) | 1;  // a new window: its first record
    } else if ((state & kCountMask) < burst_) {
      next = state + 1;
    } else {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (state_.compare_exchange_weak(state, next, std::memory_order_relaxed)) {
      return true;
    }
  }
}

bool LogRateLimiter::Allow() {
  const Clock* clock = log_clock.load(std::memory_order_acquire);
  return AllowAt(ToNanos(clock != nullptr ? clock->Now()
                                          : std::chrono::steady_clock::now()));
}

LogMessage::LogMessage(const char* file, int line, LogSeverity severity,
                       int saved_errno, uint64_t suppressed)
    : file_(file),
      line_(line),
      severity_(severity),
      saved_errno_(saved_errno),
      suppressed_(suppressed),
      time_(absl::Now()) {}

LogMessage::~LogMessage() {
  if (!flushed_) Flush();
}

void LogMessage::Flush() {
  flushed_ = true;
  if (saved_errno_ >= 0) {
    stream_ << ": " << StrError(saved_errno_) << " [" << saved_errno_ << "]";
  }
  if (suppressed_ > 0) {
    stream_ << " [" << suppressed_ << " similar messages suppressed]";
  }
  const std::string text = std::move(stream_).str();
  const LogRecord record{severity_, file_, line_, time_,
                         absl::StripTrailingAsciiWhitespace(text)};
  bool custom_sink = false;
  {
    absl::ReaderMutexLock lock(&sink_mu);
    if (sink != nullptr) {
      custom_sink = true;
      (*sink)(record);
    }
  }
  // A fatal message always reaches stderr: it is the last thing the process
  // says, and death tests match on it.
  if (!custom_sink || severity_ == LogSeverity::kFatal) WriteToStderr(record);
  if (severity_ == LogSeverity::kFatal) {
    std::fflush(stderr);
    std::abort();
  }
}

LogMessageFatal::~LogMessageFatal() {
  Flush();
  std::abort();  // Unreachable: Flush aborts. Tells the compiler so.
}

}  // namespace logging_internal
}  // namespace tao
